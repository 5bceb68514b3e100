import { z } from 'zod';
import type { DatabaseInput, DatabasePlan, PromoteOutcome } from '../../activities/contracts';
import { leafStepSchema } from '../../runbooks/schema-parts';
import type { DatabaseFenceActivities } from '../database-fence/definition';
import { databaseInput, databasePreflight, unknownDatabaseIssue } from '../database-targets';
import type { StepKind } from '../step-kind';

export interface DatabasePromoteActivities {
  planPromote(input: DatabaseInput): Promise<DatabasePlan>;
  promoteDatabase(input: DatabaseInput): Promise<PromoteOutcome>;
}

type Uses = DatabasePromoteActivities & Pick<DatabaseFenceActivities, 'checkDatabase'>;

/** Makes the replica the writable primary; only a member confirmed writable here may receive DNS. */
const schema = leafStepSchema('database.promote', { database: z.string().min(1) });

export const databasePromote: StepKind<typeof schema, Uses> = {
  kind: 'database.promote',
  description: 'promotes the replica and proves it takes writes; DNS may then point at it',
  mutates: true,
  schema,
  activityNames: ['planPromote', 'promoteDatabase'],
  crossCheck: (step, { runbook }) => unknownDatabaseIssue('.database', step.database, runbook),
  preflight: (step, runbook) => [databasePreflight<Uses>(runbook, step.database)],
  async plan(step, context) {
    const plan = await context.activities.planPromote(databaseInput(context.runbook, step.database));
    context.plannedWritable.set(step.database, plan.writableEndpoint);
    return { changes: plan.changes };
  },
  async run(step, context) {
    const outcome = await context.activities.promoteDatabase(databaseInput(context.runbook, step.database));
    context.state.confirmedWritable.set(step.database, outcome.writableEndpoint);
    return outcome;
  },
  // A promotion reports itself irreversible; nothing else reaches here.
  async undo() {
    return { status: 'not undone', detail: 'a promotion is not undone; fail back with drctl failback' };
  },
  failback: (step) => [step],
  examples: {
    valid: [{ step: { id: 'promote', kind: 'database.promote', database: 'db', timeout: '3m' } }],
    invalid: [
      {
        step: { id: 'promote', kind: 'database.promote', database: 'nope' },
        path: '.database',
        message: /no database "nope"/,
      },
    ],
  },
};
