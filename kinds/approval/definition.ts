import { z } from 'zod';
import { approversSchema } from '../../auth/approval-rule';
import { durationToMs } from '../../runbooks/duration';
import { leafStepSchema } from '../../runbooks/schema-parts';
import { nothingToUndo, type NoActivities, type StepKind } from '../step-kind';

/** A gate: the run waits here until an operator approves (`drctl approve`) or aborts it. */
const schema = leafStepSchema('approval', {
  /** What the approver is asked to confirm. */
  prompt: z.string().min(1).optional(),
  /** Production rule: the approver must be someone other than the operator who started the run. */
  twoPerson: z.boolean().default(false),
  /** Who must approve: `{ count: 2, group: 'dba', forbidInitiator: true }` (verified key owners, see auth/). */
  approvers: approversSchema.optional(),
});

export const approval: StepKind<typeof schema, NoActivities> = {
  kind: 'approval',
  description:
    'waits for operators to approve (drctl approve): one, someone other than the initiator (twoPerson), or N of a group (approvers)',
  mutates: false,
  schema,
  activityNames: [],
  crossCheck: () => [],
  preflight: () => [],
  async plan(step) {
    return {
      note: `wait for an approval${step.twoPerson ? ' by someone other than the initiator' : ''}: ${promptOf(step)}`,
    };
  },
  async run(step, context) {
    const approvedBy = await context.controls.awaitApproval(step.id, {
      prompt: promptOf(step),
      twoPerson: step.twoPerson,
      ...(step.approvers === undefined ? {} : { approvers: step.approvers }),
      timeoutMs: durationToMs(step.timeout),
    });
    if (approvedBy === null) return { abortedWhileWaiting: 'not approved: the run was aborted' };
    return { changed: false, summary: `approved by ${approvedBy}` };
  },
  undo: nothingToUndo,
  failback: (step) => [step],
  examples: {
    valid: [{ step: { id: 'go-ahead', kind: 'approval', prompt: 'Confirm with the DBA', twoPerson: true } }],
    invalid: [
      {
        step: { id: 'go-ahead', kind: 'approval', twoPerson: 'yes' },
        path: '.twoPerson',
        message: /true or false/,
      },
    ],
  },
};

function promptOf(step: { id: string; title?: string | undefined; prompt?: string | undefined }): string {
  return step.prompt ?? step.title ?? `approve step ${step.id}`;
}
