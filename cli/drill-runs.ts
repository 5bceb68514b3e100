import type { Client } from '@temporalio/client';
import { runbookSha256 } from '../auth/sha256';
import {
  INITIATOR_KEY,
  KIND_KEY,
  RPO_MS_KEY,
  RTO_MS_KEY,
  OUTCOME_KEY,
  RUNBOOK_KEY,
} from '../common/search-attributes';
import { runLockId } from '../common/run-lock';
import type { InjectionAction } from '../activities/drill-contracts';
import type { SignedStatement } from '../auth/signature';
import type { LoadedEvacuation } from '../evacuations/catalog';
import type { Runbook } from '../runbooks/schema';
import {
  drillDetail,
  drillOutcome,
  type DrillInput,
  type DrillOptions,
  type DrillResult,
} from '../workflows/drill-types';
import type { EvacuationDrillInput, EvacuationDrillResult } from '../workflows/evacuation-drill-types';
import { evacuationReference, followEvacuation } from './evacuation-runs';
import { awaitStartVerdict, referenceTo, startRefusal } from './failover-runs';
import { followRun } from './follow-run';
import { startedRunId } from './run-ids';
import type { OperatorSigner } from './operator-signer';
import { CliError, ExitCode, type ExitCodeValue } from './cli-error';
import { terminalSafe } from './terminal-safe';
import { innermostMessage } from '../workflows/innermost-message';

export interface DrillSettings {
  reason: string;
  signer: OperatorSigner;
  action: InjectionAction;
  /** The name of a failure injection in the worker's configuration (never a command). */
  inject?: string;
  canaryIntervalMs: number;
  warmupMs: number;
}

/** sha256 of the reviewed runbook (see auth/sha256.ts), so a report pins the exact version. */
export function runbookHash(runbook: Runbook): string {
  return runbookSha256(runbook);
}

/**
 * What a drill drills: a reviewed runbook, or a reviewed evacuation (every runbook of it, wave by wave). Its id and
 * sha256 are what the operator signs; `input` builds the workflow's argument around the signed start.
 */
export interface DrillSubject {
  kind: 'runbook' | 'evacuation';
  id: string;
  sha256: string;
  workflowType: 'drillWorkflow' | 'evacuationDrillWorkflow';
  input(start: SignedStatement, options: DrillOptions): DrillInput | EvacuationDrillInput;
}

/**
 * Refuses (exit 4, nothing started) a drill of a runbook whose lock an open run holds: a failover, a failback, an
 * evacuation's service or another drill's failover. The fast path: the drill's own failover takes the lock before
 * anything is injected and ends the drill, injecting nothing, if a run takes it in between.
 */
export async function refuseBusyRunbook(client: Client, runbookId: string): Promise<void> {
  const lock = runLockId(runbookId);
  const { WorkflowNotFoundError } = await import('@temporalio/client');
  const description = await client.workflow
    .getHandle(lock)
    .describe()
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
  if (description?.status.name !== 'RUNNING') return;
  throw new CliError(
    'RunbookBusy',
    `not starting a drill of ${runbookId}: a run of it is open under its lock ${lock} (a failover, failback, evacuation or drill); a drill injects a failure only while it holds that lock. Let that run end (drctl status ${lock} --follow), then run the drill again.`,
    ExitCode.Refused,
  );
}

/**
 * `drctl drill run --follow`'s exit code: 0 passed, 4 refused at its start (another run took the runbook's lock
 * just after `refuseBusyRunbook` let it start: what that check says of a busy runbook), else 1 (failed, or called
 * off: nothing measured).
 */
export function drillRunExitCode(
  result: Pick<DrillResult, 'passed' | 'calledOff' | 'refusal'>,
): ExitCodeValue {
  const outcome = drillOutcome(result);
  if (outcome === 'passed') return ExitCode.Ok;
  return outcome === 'refused' ? ExitCode.Refused : ExitCode.Failed;
}

export function runbookDrill(runbook: Runbook): DrillSubject {
  const reference = referenceTo(runbook);
  return {
    kind: 'runbook',
    id: reference.id,
    sha256: reference.sha256,
    workflowType: 'drillWorkflow',
    input: (start, options) => ({ runbook: reference, start, options }),
  };
}

export function evacuationDrill(loaded: LoadedEvacuation): DrillSubject {
  const reference = evacuationReference(loaded);
  return {
    kind: 'evacuation',
    id: reference.id,
    sha256: reference.sha256,
    workflowType: 'evacuationDrillWorkflow',
    input: (start, options) => ({ evacuation: reference, start, options }),
  };
}

/**
 * A drill's arguments: the reviewed subject's reference, the options, and the start signed for `runId` (a drill
 * id; a schedule id with the standing `schedule create` statement). The injection is signed with it.
 */
export function drillInput(
  subject: DrillSubject,
  settings: DrillSettings,
  signed: { action: 'drill' | 'schedule'; runId: string; stepId?: string },
): DrillInput | EvacuationDrillInput {
  const options = {
    action: settings.action,
    canaryIntervalMs: settings.canaryIntervalMs,
    warmupMs: settings.warmupMs,
    ...(settings.inject === undefined ? {} : { inject: settings.inject }),
  };
  const start = settings.signer.sign({
    action: signed.action,
    runId: signed.runId,
    ...(signed.stepId === undefined ? {} : { stepId: signed.stepId }),
    runbookId: subject.id,
    runbookHash: subject.sha256,
    reason: settings.reason,
    detail: drillDetail(options),
  });
  return subject.input(start, options);
}

export async function startDrill(
  client: Client,
  taskQueue: string,
  subject: DrillSubject,
  settings: DrillSettings,
): Promise<string> {
  const workflowId = startedRunId('drill', subject.id, new Date());
  await client.workflow.start(subject.workflowType, {
    taskQueue,
    workflowId,
    args: [drillInput(subject, settings, { action: 'drill', runId: workflowId })],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: subject.id },
      { key: KIND_KEY, value: 'drill' },
      { key: INITIATOR_KEY, value: settings.signer.name },
    ],
  });
  await awaitStartVerdict(client, workflowId, undefined, 'startVerdict');
  return workflowId;
}

/**
 * Shows the drill's failover live (once it starts), then returns the drill's result. The failover runs under
 * the runbook's lock id; the run to follow is the one whose parent is this drill.
 */
export async function followDrill(client: Client, drillId: string, live: boolean): Promise<DrillResult> {
  const drill = client.workflow.getHandle(drillId);
  const runbookId = (await drill.describe()).typedSearchAttributes.get(RUNBOOK_KEY);
  const failoverId = runLockId(runbookId ?? '');
  let runId: string | undefined;
  while (runId === undefined) {
    try {
      const failover = await client.workflow.getHandle(failoverId).describe();
      if (failover.parentExecution?.workflowId === drillId) runId = failover.runId;
    } catch (error) {
      // Loaded here: the commands that import this module start without the Temporal client.
      const { WorkflowNotFoundError } = await import('@temporalio/client');
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    if (runId !== undefined) break;
    const description = await drill.describe();
    if (description.status.name !== 'RUNNING') return fetchDrillResult(client, drillId);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await followRun(client, failoverId, { live, runId }).catch(() => undefined);
  return fetchDrillResult(client, drillId);
}

/**
 * Shows the drill's evacuation live (its table, once it starts), then returns the drill's result. The evacuation
 * runs as the drill's child under `<drill id>-evacuation`.
 */
export async function followEvacuationDrill(
  client: Client,
  drillId: string,
  live: boolean,
): Promise<EvacuationDrillResult> {
  const drill = client.workflow.getHandle(drillId);
  const evacuationId = `${drillId}-evacuation`;
  for (;;) {
    const started = await client.workflow
      .getHandle(evacuationId)
      .describe()
      .then(() => true)
      .catch(() => false);
    if (started) break;
    if ((await drill.describe()).status.name !== 'RUNNING')
      return fetchEvacuationDrillResult(client, drillId);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await followEvacuation(client, evacuationId, { live }).catch(() => undefined);
  return fetchEvacuationDrillResult(client, drillId);
}

export async function fetchDrillResult(
  client: Client,
  drillId: string,
  runId?: string,
): Promise<DrillResult> {
  return resultOfDrill<DrillResult>(client, drillId, runId);
}

export async function fetchEvacuationDrillResult(
  client: Client,
  drillId: string,
  runId?: string,
): Promise<EvacuationDrillResult> {
  return resultOfDrill<EvacuationDrillResult>(client, drillId, runId);
}

/**
 * A drill's recorded result. One the worker refused at its start is exit 4 with the worker's reason (nothing was
 * injected). One that ended without a result otherwise (its injection command failed, it was terminated)
 * is exit 1 with the run's own reason, not the client's "Workflow execution failed": the on-call engineer must
 * know the injection may have left the primary partly down.
 */
async function resultOfDrill<T>(client: Client, drillId: string, runId?: string): Promise<T> {
  try {
    return (await client.workflow.getHandle(drillId, runId).result()) as T;
  } catch (error) {
    const { CancelledFailure, TerminatedFailure, TimeoutFailure, WorkflowFailedError } =
      await import('@temporalio/client');
    if (!(error instanceof WorkflowFailedError)) throw error;
    const refusal = startRefusal(error);
    if (refusal !== undefined)
      throw new CliError(
        'DrillRefused',
        `${drillId}${runId === undefined ? '' : ` (run ${runId})`} was refused at its start, so nothing was injected or measured and there is no report: ${terminalSafe(refusal.split('\n')[0] ?? '')}`,
        ExitCode.Refused,
      );
    const how =
      error.cause instanceof TerminatedFailure
        ? 'terminated'
        : error.cause instanceof CancelledFailure
          ? 'cancelled'
          : error.cause instanceof TimeoutFailure
            ? 'timed out'
            : 'failed';
    throw new CliError(
      'DrillEndedWithoutResult',
      `${drillId} ended ${how} without a result: ${terminalSafe(innermostMessage(error).split('\n')[0] ?? '')}. Nothing was measured, so there is no report; a failure it injected may still be in effect: check the databases it drilled.`,
      ExitCode.Failed,
    );
  }
}

export interface DrillHistoryEntry {
  drillId: string;
  /** Which run under the drill's id (a start replayed under it would be a later run). */
  runId: string;
  status: string;
  startedAt: string;
  outcome?: string;
  rtoMs?: number;
  rpoMs?: number;
}

/** Past drills of a runbook, newest first, from Temporal's visibility (search attributes), not a side file. */
export async function drillHistory(
  client: Client,
  runbookId: string,
  limit = 20,
  /** Which drills count towards `limit` (all by default): a trend skips those that measured nothing. */
  keep: (entry: DrillHistoryEntry) => boolean = () => true,
): Promise<DrillHistoryEntry[]> {
  const entries: DrillHistoryEntry[] = [];
  const query = `DrctlRunbook = '${runbookId}' AND DrctlKind = 'drill'`;
  for await (const execution of client.workflow.list({ query })) {
    const attributes = execution.typedSearchAttributes;
    const outcome = attributes.get(OUTCOME_KEY);
    const rtoMs = attributes.get(RTO_MS_KEY);
    const rpoMs = attributes.get(RPO_MS_KEY);
    const entry: DrillHistoryEntry = {
      drillId: execution.workflowId,
      runId: execution.runId,
      status: execution.status.name,
      startedAt: execution.startTime.toISOString(),
      ...(outcome === undefined ? {} : { outcome }),
      ...(rtoMs === undefined ? {} : { rtoMs }),
      ...(rpoMs === undefined ? {} : { rpoMs }),
    };
    if (!keep(entry)) continue;
    entries.push(entry);
    if (entries.length >= limit) break;
  }
  return entries.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

export interface ScheduleSpecOptions {
  quarterly?: boolean;
  cron?: string;
  timezone: string;
}

/** A Temporal Schedule that runs the drill; an overlapping run is skipped, a missed one caught up within a day. */
export async function scheduleDrill(
  client: Client,
  taskQueue: string,
  subject: DrillSubject,
  settings: DrillSettings,
  spec: ScheduleSpecOptions,
): Promise<string> {
  const scheduleId = `drill-${subject.id}`;
  try {
    await client.schedule.create({
      scheduleId,
      spec: {
        ...(spec.cron
          ? { cronExpressions: [spec.cron] }
          : {
              calendars: [
                { month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'], dayOfMonth: 15, hour: 9, minute: 0 },
              ],
            }),
        timezone: spec.timezone,
      },
      action: {
        type: 'startWorkflow',
        workflowType: subject.workflowType,
        workflowId: scheduleId,
        taskQueue,
        args: [drillInput(subject, settings, { action: 'schedule', runId: scheduleId, stepId: 'create' })],
        typedSearchAttributes: [
          { key: RUNBOOK_KEY, value: subject.id },
          { key: KIND_KEY, value: 'drill' },
          { key: INITIATOR_KEY, value: settings.signer.name },
        ],
      },
      policies: { overlap: 'SKIP', catchupWindow: '1 day' },
      // Temporal describes a cron expression back as calendars: the cadence as given is kept for `drill schedules`.
      memo: {
        runbookHash: subject.sha256,
        subject: subject.kind,
        cadence: spec.cron ?? 'quarterly (15 Jan, Apr, Jul, Oct 09:00)',
      },
    });
  } catch (error) {
    throw await scheduleRefusal(error, scheduleId, subject, spec);
  }
  return scheduleId;
}

/** Why Temporal would not create a drill schedule, as the operator can act on it; other errors as they came. */
async function scheduleRefusal(
  error: unknown,
  scheduleId: string,
  subject: DrillSubject,
  spec: ScheduleSpecOptions,
): Promise<unknown> {
  const { ScheduleAlreadyRunning } = await import('@temporalio/client');
  if (error instanceof ScheduleAlreadyRunning)
    return new CliError(
      'ScheduleExists',
      `${scheduleId} exists already: one schedule per ${subject.kind}. To change it (a new cadence, a reviewed ${subject.kind} changed since), delete it first: drctl drill delete ${subject.id} --reason "…", then schedule again`,
      ExitCode.Refused,
    );
  // The server parses the cron expression, and the client turns its "Invalid schedule spec" into a TypeError
  // holding the server's words, which name what is wrong with it.
  if (spec.cron !== undefined && error instanceof TypeError)
    return new CliError(
      'BadCron',
      `--cron "${spec.cron}" is not a cron expression Temporal reads (minute hour day-of-month month day-of-week, e.g. "0 9 15 */3 *"): ${error.message}`,
      ExitCode.BadInput,
    );
  return error;
}
