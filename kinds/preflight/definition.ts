import { ApplicationFailure } from '@temporalio/common';
import { PermanentFailure } from '../../common/failure-types';
import { leafStepSchema } from '../../runbooks/schema-parts';
import { nothingToUndo, type NoActivities, type StepKind } from '../step-kind';

/**
 * An explicit pre-flight step: every read-only check of what the runbook touches. The interpreter also runs
 * pre-flight before the first change whether or not a runbook has this step; the step shows the checks in the
 * timeline at the point the author chose.
 */
const schema = leafStepSchema('preflight', {});

export const preflight: StepKind<typeof schema, NoActivities> = {
  kind: 'preflight',
  description: 'every read-only check of what the runbook touches; fails, changing nothing, if one fails',
  mutates: false,
  schema,
  activityNames: [],
  crossCheck: () => [],
  preflight: () => [],
  async plan(_step, context) {
    return { checks: await context.runPreflight() };
  },
  async run(_step, context) {
    const checks = await context.controls.runPreflight();
    context.reportChecks(checks);
    const failed = checks.filter((check) => !check.ok);
    if (failed.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `${failed.length} of ${checks.length} pre-flight checks failed, nothing was changed: ` +
          failed.map((check) => `${check.check}: ${check.message}`).join('; '),
        PermanentFailure.PreflightFailed,
      );
    }
    // The reads run in parallel: the slowest one's provider time is the step's.
    const providerMs = Math.max(0, ...checks.map((check) => check.providerMs ?? 0));
    return { changed: false, summary: `${checks.length} pre-flight checks passed`, checks, providerMs };
  },
  undo: nothingToUndo,
  failback: (step) => [step],
  examples: {
    valid: [{ step: { id: 'checks', kind: 'preflight', timeout: '2m' } }],
    invalid: [
      { step: { id: 'checks', kind: 'preflight', timeout: '0s' }, path: '.timeout', message: /at least 1ms/ },
      {
        step: { id: 'checks', kind: 'preflight', database: 'x' },
        path: '',
        message: /unknown field database/,
      },
    ],
  },
};
