import { z } from 'zod';
import { approvalRuleOf, approversSchema, describeRule } from '../../auth/approval-rule';
import { durationToMs } from '../../runbooks/duration';
import { duration, leafStepSchema, text } from '../../runbooks/schema-parts';
import type { RunbookIssue } from '../../runbooks/runbook-validation-error';
import { nothingToUndo, type NoActivities, type StepKind } from '../step-kind';

/** A gate: the run waits here until an operator approves (`drctl approve`) or aborts it. */
const schema = leafStepSchema('approval', {
  /** What the approver is asked to confirm. */
  prompt: text().optional(),
  /** Production rule: the approver must be someone other than the operator who started the run. */
  twoPerson: z.boolean().default(false),
  /** How long to wait for the approval. None: the gate waits until an operator answers (or aborts). */
  timeout: duration().optional(),
  /**
   * Required with `timeout`: what the run does when no approval came in time. `stop`: the run ends here as
   * failed and leaves the estate as it is; `rollback`: it ends and undoes the completed steps, as an abort would.
   */
  onTimeout: z.enum(['stop', 'rollback']).optional(),
  /** Who must approve: `{ count: 2, group: 'dba', forbidInitiator: true }` (verified key owners, see auth/). */
  approvers: approversSchema.optional(),
});

export const approval: StepKind<typeof schema, NoActivities> = {
  kind: 'approval',
  description:
    'waits for operators to approve (drctl approve): one, someone other than the initiator (twoPerson), or N of a group (approvers); without a time limit unless the runbook sets timeout and onTimeout',
  mutates: false,
  schema,
  activityNames: [],
  crossCheck(step) {
    const issues: RunbookIssue[] = [];
    if (step.timeout !== undefined && step.onTimeout === undefined) {
      issues.push({
        path: '.onTimeout',
        message:
          'required with timeout: say what the run does when no approval comes in time, "stop" (end here, change nothing more) or "rollback" (end and undo the completed steps)',
      });
    }
    if (step.timeout === undefined && step.onTimeout !== undefined) {
      issues.push({
        path: '.onTimeout',
        message:
          'applies only with timeout: set timeout too, or remove onTimeout (the gate then waits until answered)',
      });
    }
    return issues;
  },
  preflight: () => [],
  async plan(step) {
    const limit =
      step.timeout === undefined
        ? 'until answered'
        : `up to ${step.timeout}, then ${step.onTimeout === 'rollback' ? 'stop and roll back' : 'stop'}`;
    return {
      note: `wait for an approval by ${describeRule(approvalRuleOf(step))} (${limit}): ${promptOf(step)}`,
    };
  },
  async run(step, context) {
    const answer = await context.controls.awaitApproval(step.id, {
      prompt: promptOf(step),
      approvers: approvalRuleOf(step),
      ...(step.timeout === undefined ? {} : { timeoutMs: durationToMs(step.timeout) }),
    });
    if (answer.outcome === 'aborted') return { abortedWhileWaiting: 'not approved: the run was aborted' };
    if (answer.outcome === 'timed out') {
      const rollback = step.onTimeout === 'rollback';
      return {
        halt: {
          type: 'ApprovalTimeout',
          message: `no approval for "${step.id}" within ${step.timeout}; the run ${rollback ? 'stops and rolls back the completed steps' : 'stops here, changing nothing more'} (onTimeout: ${step.onTimeout})`,
          rollback,
        },
      };
    }
    return {
      changed: false,
      summary: `approved by ${answer.approvedBy.join(', ')} (${describeRule(approvalRuleOf(step))})`,
    };
  },
  undo: nothingToUndo,
  failback: (step) => [step],
  examples: {
    valid: [
      { step: { id: 'go-ahead', kind: 'approval', prompt: 'Confirm with the DBA', twoPerson: true } },
      { step: { id: 'go-ahead', kind: 'approval', timeout: '30m', onTimeout: 'rollback' } },
    ],
    invalid: [
      {
        step: { id: 'go-ahead', kind: 'approval', twoPerson: 'yes' },
        path: '.twoPerson',
        message: /true or false/,
      },
      {
        step: { id: 'go-ahead', kind: 'approval', timeout: '30m' },
        path: '.onTimeout',
        message: /required with timeout/,
      },
      {
        step: { id: 'go-ahead', kind: 'approval', timeout: '30m', onTimeout: 'continue' },
        path: '.onTimeout',
        message: /"stop", "rollback"/,
      },
    ],
  },
};

function promptOf(step: { id: string; title?: string | undefined; prompt?: string | undefined }): string {
  return step.prompt ?? step.title ?? `approve step ${step.id}`;
}
