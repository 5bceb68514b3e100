import { z } from 'zod';
import type { DatabaseInput, DatabasePlan, Irreversible, PromoteOutcome } from '../../activities/contracts';
import { leafStepSchema } from '../../runbooks/schema-parts';
import type { DatabaseFenceActivities } from '../database-fence/definition';
import { databaseInput, databasePreflight, unknownDatabaseIssue } from '../database-targets';
import { withRunChange } from '../run-change';
import type { StepKind } from '../step-kind';

const PROMOTION_UNDO: Irreversible = {
  kind: 'irreversible',
  reason:
    'a promoted replica cannot be demoted in place; fail back with drctl failback once the old primary is rebuilt as a replica',
};

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
    const input = databaseInput(context.runbook, step.database);
    const plan = await context.activities.planPromote(input);
    const willChange = plan.changes.some((change) => change.willChange);
    context.controls.beforeEffect({
      willChange,
      undo: PROMOTION_UNDO,
      promotion: step.database,
      before: Object.fromEntries(plan.changes.map((change) => [change.target, change.current])),
    });
    const outcome = await context.activities.promoteDatabase(input);
    // DNS may point here: the endpoint where the promotion's write test landed, as the provider reports it.
    context.state.confirmedWritable.set(step.database, outcome.writableEndpoint);
    return withRunChange(outcome, willChange, 'the replica');
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
