import type { Client } from '@temporalio/client';
import { lockedRunbookId, runLockId } from '../common/run-lock';
import { runbookSha256 } from '../auth/sha256';
import { INITIATOR_KEY, KIND_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import type { Runbook } from '../runbooks/schema';
import type { ReviewedPlanResult } from '../workflows/reviewed-plan';
import type { FailoverProgress, FailoverResult, RunbookReference } from '../workflows/run-types';
import { CliError, ExitCode } from './cli-error';
import type { WorkflowStart } from './http-runs';
import type { OperatorSigner } from './operator-signer';

/** A failover or failback as the client asks for it: the runbook it runs (for ids), and its catalog reference. */
export interface RunTarget {
  /** The id of the runbook that will run (a failback's derived runbook's), for the workflow id and search attributes. */
  runbook: Pick<Runbook, 'id'>;
  reference: RunbookReference;
  /** For a failback: the failover run to reverse (signed as `detail.fromRun`); default the latest failover. */
  fromRun?: string;
}

/** The reference of a locally loaded reviewed runbook: its id and the sha256 the client plans against. */
export function referenceTo(base: Runbook, variant?: 'failback'): RunbookReference {
  return { id: base.id, sha256: runbookSha256(base), ...(variant === undefined ? {} : { variant }) };
}

/**
 * The client side of failover runs: start one (Temporal refuses doubles), ask how one is doing, plan one.
 * Workflows are named by string so the CLI never loads workflow code.
 */

/** A started run: the runbook's lock id (shared by every run of it) and Temporal's id of this run. */
export interface StartedRun {
  workflowId: string;
  runId: string;
}

/**
 * The start of a failover (or failback) under the runbook's lock: the workflow id is the lock (`runLockId`), and
 * Temporal itself refuses a second start while a run with that id is open, whatever the clocks of the two
 * operators say. A finished run does not block the next one; they differ by run id. Both transports send it.
 */
export function failoverStart(
  taskQueue: string,
  target: RunTarget,
  options: { reason: string; signer: OperatorSigner; forceReason?: string },
): WorkflowStart {
  const { runbook, reference } = target;
  const kind = reference.variant === 'failback' ? 'failback' : 'failover';
  const workflowId = runLockId(lockedRunbookId(runbook.id, kind));
  const detail = {
    ...(options.forceReason === undefined ? {} : { force: options.forceReason }),
    ...(target.fromRun === undefined ? {} : { fromRun: target.fromRun }),
  };
  return {
    workflowType: 'failoverWorkflow',
    workflowId,
    taskQueue,
    args: [
      {
        runbook: reference,
        start: options.signer.sign({
          action: kind,
          runId: workflowId,
          runbookId: reference.id,
          runbookHash: reference.sha256,
          reason: options.reason,
          ...(Object.keys(detail).length === 0 ? {} : { detail }),
        }),
      },
    ],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: runbook.id },
      { key: KIND_KEY, value: kind },
      { key: INITIATOR_KEY, value: options.signer.name },
    ],
  };
}

/** The refusal of a second run under an open lock. */
export function alreadyRunning(runbookId: string, workflowId: string): CliError {
  return new CliError(
    'AlreadyRunning',
    `a run of ${runbookId} is already open under its lock ${workflowId} (a failover, failback or drill); ` +
      `not starting another. Follow it with \`drctl status ${workflowId}\`.`,
    ExitCode.Refused,
  );
}

/** Starts a failover (or failback) over gRPC (see `failoverStart`) and waits for its start verdict. */
export async function startFailover(
  client: Client,
  taskQueue: string,
  target: RunTarget,
  options: { reason: string; signer: OperatorSigner; now: Date; forceReason?: string },
): Promise<StartedRun> {
  const start = failoverStart(taskQueue, target, options);
  let runId: string;
  try {
    const handle = await client.workflow.start(start.workflowType, clientOptions(start));
    runId = handle.firstExecutionRunId;
  } catch (error) {
    if ((error as Error | undefined)?.name === 'WorkflowExecutionAlreadyStartedError') {
      throw alreadyRunning(target.reference.id, start.workflowId);
    }
    throw error;
  }
  await awaitStartVerdict(client, start.workflowId, runId);
  return { workflowId: start.workflowId, runId };
}

/** A WorkflowStart as the gRPC client's start options. */
function clientOptions({ workflowType: _type, workflowExecutionTimeoutSeconds, ...start }: WorkflowStart) {
  return {
    ...start,
    ...(workflowExecutionTimeoutSeconds === undefined
      ? {}
      : { workflowExecutionTimeout: `${workflowExecutionTimeoutSeconds}s` as const }),
  };
}

const START_VERDICT_TIMEOUT_MS = 60_000;

/** What waiting for a start verdict reads of a run, over gRPC or Temporal's HTTP API. */
export interface VerdictReads {
  running(): Promise<boolean>;
  /** Whether its progress shows the governing policy (it verified its signed start). */
  authorized(): Promise<boolean>;
  /** Once it has closed: the worker's reason when it refused the start. */
  refusal(): Promise<string | undefined>;
}

/**
 * Which query shows a verified start: a failover's or an evacuation's `progress` (its authorization), a drill's
 * `startVerdict` (workflows/drill-start-verdict.ts).
 */
type StartVerdictQuery = 'progress' | 'startVerdict';

/**
 * Waits until a run has verified its signed start (its progress shows the governing policy; an evacuation shows
 * it once it also holds every runbook's lock), or has ended refused: then a CliError (exit 4) carries the
 * worker's reason, and nothing was changed.
 */
export async function awaitStartVerdict(
  client: Client,
  workflowId: string,
  runId?: string,
  authorizedBy: StartVerdictQuery = 'progress',
): Promise<void> {
  const handle = client.workflow.getHandle(workflowId, runId, { followRuns: false });
  return awaitVerdict({
    running: async () => (await handle.describe()).status.name === 'RUNNING',
    authorized: async () =>
      authorizedBy === 'progress'
        ? (await handle.query<{ authorization?: unknown }>('progress').catch(() => undefined))
            ?.authorization !== undefined
        : (await handle.query<{ authorized: boolean }>('startVerdict').catch(() => undefined))?.authorized ===
          true,
    refusal: () =>
      handle.result().then(
        () => undefined,
        (error: unknown) => startRefusal(error),
      ),
  });
}

/** `awaitStartVerdict` over any reads. */
export async function awaitVerdict(reads: VerdictReads): Promise<void> {
  const deadline = Date.now() + START_VERDICT_TIMEOUT_MS;
  for (;;) {
    const authorized = (await reads.running()) && (await reads.authorized());
    // Read again after: a run can end between the reads, and an ended run may show its policy though it was
    // refused (an evacuation that verified its start, then found a runbook's lock taken).
    if (!(await reads.running())) {
      const refusal = await reads.refusal();
      if (refusal) throw new CliError('StartRefused', refusal, ExitCode.Refused);
      return;
    }
    if (authorized || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The failure types a worker refuses a start with: the run changed nothing. */
const REFUSALS = new Set(['NotAuthorized', 'RunbookMismatch', 'NoRecordedFailover', 'RunbookBusy']);

/**
 * The worker's reason when a run was refused at its start (NotAuthorized, RunbookMismatch, NoRecordedFailover,
 * or RunbookBusy: an evacuation that could not take every runbook's lock).
 */
export function startRefusal(error: unknown): string | undefined {
  // Read by shape, so the CLI need not load @temporalio/common to recognise an ApplicationFailure.
  const cause = (error as { cause?: { name?: unknown; type?: unknown; message?: unknown } })?.cause;
  if (cause?.name !== 'ApplicationFailure') return undefined;
  return refusalOf(cause.type, cause.message);
}

/** The reason, when a failure of this type and message is a start refusal. */
export function refusalOf(type: unknown, message: unknown): string | undefined {
  return typeof type === 'string' && REFUSALS.has(type) && typeof message === 'string' ? message : undefined;
}

export type RunState =
  | { closed: false; progress: FailoverProgress }
  | { closed: true; result: FailoverResult }
  | { closed: true; result: undefined; status: string; message: string };

/**
 * Where a run stands: live progress while it runs, its recorded result once it has ended. Without `runId`, the
 * latest run with that workflow id (runs of one runbook share its lock id). `status` is Temporal's status of the
 * run when the caller has just described it (saves describing it again).
 */
export async function readRun(
  client: Client,
  workflowId: string,
  runId?: string,
  status?: string,
): Promise<RunState> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const statusName = status ?? (await handle.describe()).status.name;
  if (statusName === 'RUNNING') {
    return { closed: false, progress: await handle.query<FailoverProgress>('progress') };
  }
  try {
    return { closed: true, result: await handle.result() };
  } catch (error) {
    const recorded = await recordedResult(error);
    if (recorded) return { closed: true, result: recorded };
    // "Workflow execution failed" says nothing: the cause is what refused or stopped it.
    const cause = (error as Error & { cause?: Error }).cause;
    return {
      closed: true,
      result: undefined,
      status: statusName,
      message: cause?.message ?? (error as Error).message,
    };
  }
}

/** A failed failover carries its result (the timeline up to the failure) as its failure's detail. */
async function recordedResult(error: unknown): Promise<FailoverResult | undefined> {
  const { WorkflowFailedError } = await import('@temporalio/client');
  const { ApplicationFailure } = await import('@temporalio/common');
  if (!(error instanceof WorkflowFailedError) || !(error.cause instanceof ApplicationFailure))
    return undefined;
  const detail = error.cause.details?.[0] as FailoverResult | undefined;
  return detail?.timeline ? detail : undefined;
}

/** The start of a plan of a reviewed runbook, on a signed `plan` statement (both transports send it). */
export function planStart(taskQueue: string, target: RunTarget, signer: OperatorSigner): WorkflowStart {
  const { runbook, reference } = target;
  const workflowId = `plan-${runbook.id}-${Date.now()}`;
  const start = signer.sign({
    action: 'plan',
    runId: workflowId,
    runbookId: reference.id,
    runbookHash: reference.sha256,
    reason: `plan ${runbook.id}`,
    ...(target.fromRun === undefined ? {} : { detail: { fromRun: target.fromRun } }),
  });
  return {
    workflowType: 'planWorkflow',
    workflowId,
    taskQueue,
    args: [{ runbook: reference, start }],
    workflowExecutionTimeoutSeconds: PLAN_TIMEOUT_SECONDS,
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: runbook.id },
      { key: KIND_KEY, value: 'plan' },
    ],
  };
}

const PLAN_TIMEOUT_SECONDS = 300;

/** Plans a reviewed runbook on the worker over gRPC; refusals are exit 4 with the reason. */
export async function planFailover(
  client: Client,
  taskQueue: string,
  target: RunTarget,
  signer: OperatorSigner,
): Promise<ReviewedPlanResult> {
  const start = planStart(taskQueue, target, signer);
  return client.workflow
    .execute<(...args: unknown[]) => Promise<ReviewedPlanResult>>(start.workflowType, clientOptions(start))
    .catch((error: unknown) => {
      const refusal = startRefusal(error);
      if (refusal) throw planRefused(refusal);
      throw error;
    });
}

export function planRefused(refusal: string): CliError {
  return new CliError('PlanRefused', refusal, ExitCode.Refused);
}
