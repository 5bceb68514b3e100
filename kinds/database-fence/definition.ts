import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { CheckResult, DatabaseInput, PlannedChange, StepOutcome } from '../../activities/contracts';
import { leafStepSchema } from '../../runbooks/schema-parts';
import { databaseInput, databasePreflight, unknownDatabaseIssue } from '../database-targets';
import type { FenceUndoDetail } from '../../providers/database/strategy';
import type { StepKind } from '../step-kind';

/** What undoes a fence: lifting it, on the same database (only while nothing was promoted). */
export interface FenceUndo {
  database: DatabaseInput;
  /** What the provider's fence changed, so the undo restores exactly that (absent in runs recorded before it existed). */
  detail?: FenceUndoDetail;
}

export interface DatabaseFenceActivities {
  /** Pre-flight of a database target (shared with database.promote). */
  checkDatabase(input: DatabaseInput): Promise<CheckResult[]>;
  planFence(input: DatabaseInput): Promise<PlannedChange[]>;
  fenceDatabase(input: DatabaseInput): Promise<StepOutcome<FenceUndo>>;
  /** Undoes a fence (abort before promotion): the old primary takes writes again. Idempotent. */
  unfenceDatabase(input: DatabaseInput, detail?: FenceUndoDetail): Promise<StepOutcome>;
}

/** Stops the old primary taking writes, by the database provider's own means. */
const schema = leafStepSchema('database.fence', { database: z.string().min(1) });

export const databaseFence: StepKind<typeof schema, DatabaseFenceActivities, FenceUndo> = {
  kind: 'database.fence',
  description:
    "stops the old primary taking writes (the provider's fence); an unreachable one needs an approval",
  mutates: true,
  schema,
  activityNames: ['checkDatabase', 'planFence', 'fenceDatabase', 'unfenceDatabase'],
  crossCheck: (step, { runbook }) => unknownDatabaseIssue('.database', step.database, runbook),
  preflight: (step, runbook) => [databasePreflight<DatabaseFenceActivities>(runbook, step.database)],
  async plan(step, context) {
    return { changes: await context.activities.planFence(databaseInput(context.runbook, step.database)) };
  },
  async run(step, context) {
    const outcome = await context.activities.fenceDatabase(databaseInput(context.runbook, step.database));
    if (outcome.facts.primaryReachable !== false) return outcome;
    // An unreachable primary cannot be fenced: going on risks two primaries, so a person decides, on record.
    const approvedBy = await context.controls.awaitApproval(step.id, {
      prompt: `the old primary of "${step.database}" is unreachable and could not be fenced; approve to promote without a fence`,
      twoPerson: false,
    });
    if (approvedBy === null) {
      throw ApplicationFailure.nonRetryable(
        'the run was aborted while waiting to proceed unfenced',
        'Aborted',
      );
    }
    return { ...outcome, summary: `${outcome.summary}; proceeding unfenced, approved by ${approvedBy}` };
  },
  async undo({ database, detail }, context) {
    if (context.promoted) {
      return {
        status: 'not undone',
        detail:
          'the old primary stays fenced: a replica was promoted in this run, and lifting the fence would make two writable primaries',
      };
    }
    const outcome = await context.activities.unfenceDatabase(database, detail);
    return { status: 'undone', detail: outcome.summary };
  },
  failback: (step) => [step],
  examples: {
    valid: [{ step: { id: 'fence', kind: 'database.fence', database: 'db' } }],
    invalid: [
      {
        step: { id: 'fence', kind: 'database.fence', database: 'dbx' },
        path: '.database',
        message: /no database "dbx" in targets.databases \(declared: db\)/,
      },
      { step: { id: 'fence', kind: 'database.fence' }, path: '.database', message: /required/ },
    ],
  },
};
