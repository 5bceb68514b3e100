import type { DatabaseTarget, RunbookMode } from '../../runbooks/schema';
import type { ArnContext, IamGrant } from './iam-grant';

type TargetOf<P extends DatabaseTarget['provider']> = Extract<DatabaseTarget, { provider: P }>;

/**
 * What a database provider declares about IAM (in `providers/database/<provider>/iam.ts`): the grants of its
 * reads (pre-flight, plan, the lag gate), of its fence and unfence, and of its promotion.
 */
export interface DatabaseProviderIam<P extends DatabaseTarget['provider']> {
  readonly provider: P;
  check(target: TargetOf<P>, arns: ArnContext): IamGrant[];
  fence(target: TargetOf<P>, arns: ArnContext): IamGrant[];
  /** `mode`: the runbook's; a provider may call a different operation in planned and unplanned runs. */
  promote(target: TargetOf<P>, arns: ArnContext, mode: RunbookMode): IamGrant[];
}
