import { z } from 'zod';
import type { CheckResult, DatabaseInput, PlannedChange, StepOutcome } from '../../activities/contracts';
import { leafStepSchema } from '../../runbooks/schema-parts';
import { databaseInput, databaseReads, databasePreflight, unknownDatabaseIssue } from '../database-targets';
import { freshPlan, readPlanAhead, type PlanReadAhead } from '../plan-read-ahead';
import { withRunChange } from '../run-change';
import type { ApprovalRule } from '../../auth/approval-rule';
import type { FenceUndoDetail } from '../../providers/database/strategy';
import type { StepKind } from '../step-kind';
import { hasPatch } from '../../workflows/patch-bundle';

/**
 * Going on without a fence needs two different people: an old primary drctl cannot reach may be partitioned and
 * still taking writes, so one person's word that it is down is not enough.
 */
export const UNFENCED_APPROVERS: ApprovalRule = { count: 2, forbidInitiator: false };

/**
 * A fence this run made although its plan found one in place (lifted between the plan and the fence) records
 * the run's undo; runs recorded before did not, and their rollbacks left such a fence in place.
 */
export const UNPLANNED_FENCE_UNDO_PATCH = 'fence-records-an-unplanned-fence';

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
  /** `recorded`: the plan's `undoDetail`, already in the run's history with the step's undo. */
  fenceDatabase(input: DatabaseInput, recorded?: FenceUndoDetail): Promise<StepOutcome<FenceUndo>>;
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
  crossCheck: (step, { runbook }) => [
    ...unknownDatabaseIssue('.database', step.database, runbook),
    // Going on past a failed fence is going on with two writable primaries: only two operators' skip does that.
    ...(step.onFailure === 'continue'
      ? [
          {
            path: '.onFailure',
            message:
              'a fence may not "continue" when it fails: going on unfenced needs two operators (drctl decide … skip); use "pause" (an operator decides) or "abort"',
          },
        ]
      : []),
  ],
  preflight: (step, runbook) => [databasePreflight<DatabaseFenceActivities>(runbook, step.database)],
  async plan(step, context) {
    return { changes: await context.activities.planFence(databaseInput(context.runbook, step.database)) };
  },
  // The fence's plan is read while the step before runs. What it recorded may be stale by then: the fence itself
  // finds out, and records what it really replaced (RDS: groups changed since → tagged; someone else's fence →
  // this run's undo withdrawn; PostgreSQL: another fence's markers → withdrawn too). (Date.now() is the
  // workflow's clock: the time of the task that saw the read answer.)
  readAhead: (step, activities, runbook) =>
    readPlanAhead(activities.planFence(databaseInput(runbook, step.database))),
  readAheadPatch: 'database-fence-plan-read-ahead',
  async run(step, context) {
    const input = databaseInput(context.runbook, step.database);
    const ahead =
      context.readAhead === undefined
        ? undefined
        : ((await context.readAhead) as PlanReadAhead<PlannedChange[]> | undefined);
    // A plan read ahead serves only while fresh: a wait or a gate before the fence may have held it for hours.
    const plan = freshPlan(ahead) ?? (await databaseReads(context, input).planFence(input));
    const willChange = plan.some((change) => change.willChange);
    // What the provider's undo needs of the state just read (an RDS fence: the groups it replaces) goes into the
    // history with the undo, before the fence: the fence then need not mark the instance to survive a crash.
    const planned = plan.find((change) => change.undoDetail !== undefined)?.undoDetail;
    const before = Object.fromEntries(plan.map((change) => [change.target, change.current]));
    const recorded = context.controls.beforeEffect({
      willChange,
      ...(willChange
        ? { undo: { database: input, ...(planned ? { detail: planned } : {}) } satisfies FenceUndo }
        : {}),
      before,
    });
    // After an operator's retry the run holds the first execution's undo, whose fence may be the one in place:
    // the fence works from that record (and finishes that fence) rather than from what it reads now.
    const held = (recorded.undo as FenceUndo | undefined)?.detail;
    const detail = recorded.byEarlierExecution ? held && { ...held, byEarlierExecution: true } : planned;
    const fenced = await (detail === undefined
      ? context.activities.fenceDatabase(input)
      : context.activities.fenceDatabase(input, detail));
    // Fenced by someone else between the plan and the fence: not this run's to undo (a provider that can tell).
    const foundFenced = fenced.facts.fencedByAnother === true;
    if (willChange && foundFenced)
      context.controls.beforeEffect({ willChange: false, supersedes: true, before });
    // The plan found a fence in place, lifted since, so this call fenced: the fence is this run's to undo. The
    // undo is recorded after the fence (a crash in between loses it, as it did before): the fence's own
    // compensation, which names this fence (its id), so the undo lifts this fence and no other.
    const fencedUnplanned = !willChange && fenced.changed && !foundFenced;
    if (fencedUnplanned && hasPatch(UNPLANNED_FENCE_UNDO_PATCH))
      context.controls.beforeEffect({
        willChange: true,
        supersedes: true,
        undo: (fenced.compensation as FenceUndo | undefined) ?? ({ database: input } satisfies FenceUndo),
        before,
      });
    const outcome = withRunChange(fenced, (willChange || fencedUnplanned) && !foundFenced, 'the fence');
    if (outcome.facts.primaryReachable !== false) return outcome;
    // Unreachable is not down: it may be partitioned and still taking writes. Two people decide, on record,
    // and a follow-up keeps trying to fence it once a promotion happened.
    const where =
      outcome.facts.unreachable === 'region' ? 'its region does not answer' : 'it does not answer';
    const answer = await context.controls.awaitApproval(step.id, {
      prompt:
        `the old primary of "${step.database}" is unreachable (${where}) and could not be fenced; it may still be taking writes. ` +
        `${UNFENCED_APPROVERS.count} different operators must approve to promote without a fence; a follow-up then keeps trying to fence it until that succeeds or an operator closes it`,
      approvers: UNFENCED_APPROVERS,
    });
    if (answer.outcome !== 'approved') {
      return {
        abortedWhileWaiting: 'not fenced: the run was aborted while waiting for approvals to go on unfenced',
      };
    }
    context.state.unfenced.set(step.database, { approvedBy: answer.approvedBy });
    return {
      ...outcome,
      summary: `${outcome.summary}; proceeding unfenced, approved by ${answer.approvedBy.join(' and ')}`,
      facts: { ...outcome.facts, unfencedApprovedBy: answer.approvedBy.join(', ') },
    };
  },
  skipApprovers: UNFENCED_APPROVERS.count,
  skipped(step, state, approvedBy) {
    state.unfenced.set(step.database, { approvedBy });
  },
  async undo({ database, detail }, context) {
    if (context.promotion !== 'none') {
      return {
        status: 'kept',
        detail: `the old primary stays fenced: a replica ${context.promotion === 'completed' ? 'was' : 'may have been'} promoted in this run, and lifting the fence would make two writable primaries`,
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
      {
        // Before: valid, and a failed fence was passed over with no approval: two writable primaries.
        step: { id: 'fence', kind: 'database.fence', database: 'db', onFailure: 'continue' },
        path: '.onFailure',
        message: /a fence may not "continue" when it fails: going on unfenced needs two operators/,
      },
    ],
  },
};
