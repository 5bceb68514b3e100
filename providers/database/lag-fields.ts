import { z } from 'zod';
import { duration } from '../../runbooks/schema-parts';

/**
 * The lag fields of the providers that read lag from CloudWatch. Pure (zod only): part of the runbook schema.
 */
export const lagFields = {
  /** The largest replication lag (RPO exposure) the failover accepts. */
  maxLag: duration().default('30s'),
  /**
   * When CloudWatch has no lag datapoint, the check fails — unless this is true, in which case the promotion
   * stops for an approval (recorded in the run) before it goes on without knowing the lag.
   */
  acceptUnknownLag: z.boolean().default(false),
};
