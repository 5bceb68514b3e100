import { z } from 'zod';
import { durationToMs, formatMs, isDuration } from './duration';

/**
 * The schema pieces every step kind and provider builds on: names, durations, zones, the fields every step
 * has. Pure (zod only), so step-kind definitions can use them inside workflow code.
 */

/** The longest duration drctl accepts anywhere: a run can wait for days, not for years. */
export const MAX_DURATION_MS = 366 * 86_400_000;

const DURATION_FORMS = 'a duration such as 250ms, 30s, 5m or 1h';

/**
 * A duration string. Temporal refuses a zero timeout or retry interval (the workflow task would fail and the
 * run would wedge), so durations are positive unless `allowZero` says the field means "none".
 */
export function duration(options: { allowZero?: boolean } = {}) {
  return z.string().superRefine((text, context) => {
    if (!isDuration(text)) {
      context.addIssue({
        code: 'custom',
        message: `must be ${DURATION_FORMS} (got ${JSON.stringify(text)})`,
      });
      return;
    }
    const ms = durationToMs(text);
    if (ms < 1 && !options.allowZero) {
      context.addIssue({
        code: 'custom',
        message: `must be at least 1ms (got ${JSON.stringify(text)}); Temporal refuses a zero timeout or interval`,
      });
    } else if (ms > MAX_DURATION_MS) {
      context.addIssue({
        code: 'custom',
        message: `must be at most ${formatMs(MAX_DURATION_MS)} (got ${JSON.stringify(text)})`,
      });
    }
  });
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

export const name = z
  .string()
  .regex(NAME_PATTERN, { message: 'must be lower-case letters, digits and dashes (e.g. ehr-db)' });

/**
 * Text a person reads (a title, an owner): not empty, and not only spaces, which would show as nothing where the
 * runbook is listed, planned and reported.
 */
export function text() {
  return z
    .string()
    .min(1)
    .refine((value) => value === '' || value.trim() !== '', {
      error: (issue) => `must hold text, not only spaces (got ${JSON.stringify(issue.input)})`,
    });
}

export const retryPolicySchema = z
  .object({
    maximumAttempts: z.number().int().min(1).max(100).default(5),
    initialInterval: duration().default('1s'),
    backoffCoefficient: z.number().min(1).max(10).default(2),
    maximumInterval: duration().default('30s'),
  })
  .strict()
  .superRefine((retry, context) => {
    if (
      isDuration(retry.initialInterval) &&
      isDuration(retry.maximumInterval) &&
      durationToMs(retry.initialInterval) > durationToMs(retry.maximumInterval)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['initialInterval'],
        message: `must not be longer than maximumInterval (${retry.initialInterval} > ${retry.maximumInterval}); Temporal refuses such a retry policy mid-run`,
      });
    }
  });

/** The fields every leaf step has, whatever its kind. */
export const stepCommon = {
  id: name,
  title: text().optional(),
  /** Start-to-close timeout of one attempt. Default 5m. */
  timeout: duration().default('5m'),
  retry: retryPolicySchema.prefault({}),
  /** What the run does when the step fails after its retries: pause for an operator, abort, or go on. */
  onFailure: z.enum(['pause', 'abort', 'continue']).default('abort'),
};

/** A leaf step schema of one kind: the common fields plus the kind's own (which may redefine a common one). */
export function leafStepSchema<K extends string, S extends z.ZodRawShape>(kind: K, fields: S) {
  return z
    .object({ ...stepCommon, kind: z.literal(kind) })
    .extend(fields)
    .strict();
}

/** A hosted zone, by name (`sandbox.drctl.internal.`) or by id; exactly one of the two. */
export const zoneRef = z
  .object({ name: z.string().min(1).optional(), id: z.string().min(1).optional() })
  .strict()
  .refine((zone) => (zone.name === undefined) !== (zone.id === undefined), {
    message: 'give exactly one of name and id',
  });

export type ZoneRef = z.output<typeof zoneRef>;
export type RetryPolicy = z.output<typeof retryPolicySchema>;
