import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { PermanentFailure } from '../../common/failure-types';
import type { DatabaseInput, DatabasePlan, Irreversible, PromoteOutcome } from '../../activities/contracts';
import { leafStepSchema } from '../../runbooks/schema-parts';
import type { DatabaseFenceActivities } from '../database-fence/definition';
import { databaseInput, databaseReads, databasePreflight, unknownDatabaseIssue } from '../database-targets';
import { freshPlan, readPlanAhead, type PlanReadAhead } from '../plan-read-ahead';
import { withRunChange } from '../run-change';
import type { StepKind, StepResult } from '../step-kind';

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

/**
 * The lag-gate refusal an operator may overrule: an unknown lag when the target accepts unknown lag, a lag above
 * maxLag (or not caught up within it) in an unplanned run. Undefined for every other failure (and for one already approved).
 */
function lagGateOf(
  error: unknown,
  input: DatabaseInput,
  approvals: NonNullable<DatabaseInput['approvals']>,
): { approval: 'unknownLag' | 'dataLoss'; message: string } | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const acceptsUnknown = (input.target as { acceptUnknownLag?: boolean }).acceptUnknownLag === true;
  if (cause.type === PermanentFailure.ReplicationLagUnknown && acceptsUnknown && !approvals.unknownLag) {
    return { approval: 'unknownLag', message: cause.message };
  }
  const behind =
    cause.type === PermanentFailure.ReplicaLagTooHigh || cause.type === PermanentFailure.ReplicaNotCaughtUp;
  if (behind && input.mode !== 'planned' && !approvals.dataLoss) {
    return { approval: 'dataLoss', message: cause.message };
  }
  return undefined;
}

/**
 * Failures a promotion ends with only while the replica is still a replica (the lag gate refused before any
 * promotion call): an execution that ended so promoted nothing, in any attempt (a promotion is not undone).
 */
const REFUSED_BEFORE_PROMOTING: ReadonlySet<string> = new Set([
  PermanentFailure.ReplicaNotCaughtUp,
  PermanentFailure.ReplicaLagTooHigh,
  PermanentFailure.ReplicationLagUnknown,
]);

/**
 * A promotion found made after an operator's retry, whose first execution set out to make it: who made it is not
 * known, so the outcome claims neither a change nor none (`changed` left out).
 */
function promotedBeforeRetry(outcome: PromoteOutcome): StepResult {
  const result: StepResult = { ...outcome };
  delete result.changed;
  return {
    ...result,
    summary: `${outcome.summary}; found promoted after the operator's retry: the step's execution before it set out to promote it and may have done so before it failed, or someone did during the pause`,
  };
}

/**
 * How long a promotion's plan read ahead stands: an RDS fence (security groups, a reboot, its wait) may take
 * minutes, and the read is only the record's (see `readAhead`).
 */
export const PROMOTE_PLAN_FRESH_MS = 10 * 60_000;

/**
 * Whether a database's old primary is fenced by a step of its own before the promotion: self-managed PostgreSQL
 * and an RDS instance (unless its fence is `none`, an old primary known to be gone). Aurora's failover demotes the
 * old writer itself.
 */
function fenceComesFirst(target: { provider: string; fence?: unknown } | undefined): boolean {
  if (target === undefined) return false;
  return target.provider === 'postgres' || (target.provider === 'rds-instance' && target.fence !== 'none');
}

/** Makes the replica the writable primary; only a member confirmed writable here may receive DNS. */
const schema = leafStepSchema('database.promote', { database: z.string().min(1) });

export const databasePromote: StepKind<typeof schema, Uses> = {
  kind: 'database.promote',
  description: 'promotes the replica and proves it takes writes; DNS may then point at it',
  mutates: true,
  providesEndpoints: true,
  schema,
  activityNames: ['planPromote', 'promoteDatabase'],
  crossCheck(step, { runbook, fencedBefore }) {
    const unknown = unknownDatabaseIssue('.database', step.database, runbook);
    if (unknown.length > 0) return unknown;
    if (fencedBefore.has(step.database) || !fenceComesFirst(runbook.targets.databases[step.database]))
      return [];
    return [
      {
        path: '.database',
        message: `promoting "${step.database}" needs a database.fence step for it first (an earlier step, not in the same parallel group): unfenced, the old primary may still take writes beside the new one. An unreachable old primary is the fence's to handle (two operators approve going on without it)`,
      },
    ];
  },
  preflight: (step, runbook) => [databasePreflight<Uses>(runbook, step.database)],
  async plan(step, context) {
    const plan = await context.activities.planPromote(databaseInput(context.runbook, step.database));
    context.plannedWritable.set(step.database, plan.writableEndpoint);
    return { changes: plan.changes };
  },
  // The promotion target's state is read while the step before runs (the fence, which changes the old primary,
  // never the target). The read only informs the record (`before`, `willChange`): the promotion reads the target
  // again itself. So it stands for as long as an RDS fence's reboot may take (`PROMOTE_PLAN_FRESH_MS`), and a
  // promotion made meanwhile by someone else is found by the promotion and not claimed as this run's (below).
  readAhead: (step, activities, runbook) =>
    readPlanAhead(activities.planPromote(databaseInput(runbook, step.database))),
  readAheadPatch: 'database-promote-plan-read-ahead',
  async run(step, context) {
    const input = databaseInput(context.runbook, step.database);
    const ahead =
      context.readAhead === undefined
        ? undefined
        : ((await context.readAhead) as PlanReadAhead<DatabasePlan> | undefined);
    const plan =
      freshPlan(ahead, PROMOTE_PLAN_FRESH_MS) ?? (await databaseReads(context, input).planPromote(input));
    const willChange = plan.changes.some((change) => change.willChange);
    const recorded = context.controls.beforeEffect({
      willChange,
      undo: PROMOTION_UNDO,
      promotion: step.database,
      before: Object.fromEntries(plan.changes.map((change) => [change.target, change.current])),
    });
    const approvals: NonNullable<DatabaseInput['approvals']> = {};
    for (;;) {
      try {
        const outcome = await context.activities.promoteDatabase({ ...input, approvals: { ...approvals } });
        // DNS may point here: the endpoint where the promotion's write test landed, as the provider reports it.
        context.state.confirmedWritable.set(step.database, outcome.writableEndpoint);
        // A first attempt that found the target promoted did not promote it: someone else did, after the read. A
        // later attempt may have found the promotion of an earlier attempt of this activity, which died unrecorded.
        const promotedByThisRun = willChange && (outcome.changed || outcome.attempt > 1);
        // After an operator's retry the read may find the promotion the step's first execution set out to make (it
        // recorded the replica still to promote, then failed): that execution may have made it before it failed,
        // or someone did during the pause. Neither "changed" nor "nothing changed" would be true: the record says
        // so. Unless that execution's lag gate refused: the replica was still a replica then, so it did not.
        const mayHavePromoted =
          recorded.earlierFailure === undefined || !REFUSED_BEFORE_PROMOTING.has(recorded.earlierFailure);
        if (
          !willChange &&
          !outcome.changed &&
          recorded.byEarlierExecution &&
          recorded.willChange &&
          mayHavePromoted
        )
          return promotedBeforeRetry(outcome);
        return withRunChange(outcome, promotedByThisRun, 'the replica');
      } catch (error) {
        const gate = lagGateOf(error, input, approvals);
        if (gate === undefined) throw error;
        // The lag gate refused on data it cannot vouch for: a person decides, and the decision is kept with the run.
        const answer = await context.controls.awaitApproval(step.id, {
          prompt: `${gate.message} — approve to promote "${step.database}" anyway`,
          approvers: { count: 1, forbidInitiator: false },
        });
        if (answer.outcome !== 'approved') {
          return {
            abortedWhileWaiting: `not promoted: the run was ${answer.outcome} while waiting to promote`,
          };
        }
        approvals[gate.approval] = answer.approvedBy.join(' and ');
      }
    }
  },
  // A promotion reports itself irreversible; nothing else reaches here.
  async undo() {
    return { status: 'not undone', detail: 'a promotion is not undone; fail back with drctl failback' };
  },
  failback: (step) => [step],
  examples: {
    valid: [
      {
        before: [{ id: 'fence', kind: 'database.fence', database: 'db' }],
        step: { id: 'promote', kind: 'database.promote', database: 'db', timeout: '3m' },
      },
    ],
    invalid: [
      {
        // Before: valid, and the promotion ran with the old primary unfenced (or failed mid-run, planned).
        step: { id: 'promote', kind: 'database.promote', database: 'db' },
        path: '.database',
        message: /promoting "db" needs a database\.fence step for it first/,
      },
      {
        step: { id: 'promote', kind: 'database.promote', database: 'nope' },
        path: '.database',
        message: /no database "nope"/,
      },
    ],
  },
};
