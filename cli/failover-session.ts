import type { DrctlConfig } from '../worker/config';
import type { ReviewedPlanResult } from '../workflows/reviewed-plan';
import type { FenceFollowUpState } from '../workflows/fence-follow-up';
import type { FailoverResult } from '../workflows/run-types';
import {
  alreadyRunning,
  awaitVerdict,
  failoverStart,
  planFailover,
  planRefused,
  planStart,
  refusalOf,
  startFailover,
  type RunState,
  type RunTarget,
  type StartedRun,
} from './failover-runs';
import { followFeed, followRun, type RunFeed } from './follow-run';
import { followUpStates, readFollowUpOverGrpc, type FollowUpReader, type FollowUpStates } from './follow-ups';
import {
  closeOutcomeOverHttp,
  openHttpRuns,
  queryOverHttp,
  resultOf,
  startOverHttp,
  statusOverHttp,
  watchOverHttp,
  WorkflowAlreadyOpenError,
  type HttpRuns,
} from './http-runs';
import type { OperatorSigner } from './operator-signer';
import { CliError, ExitCode } from './cli-error';
import { TemporalHttpUnreachableError } from './temporal-http';
import { terminalSafe } from './terminal-safe';
import { CONNECT_TIMEOUT_MS, connectClient } from './temporal-connection';
import { noWorkerError, requireWorker } from './worker-presence';

/**
 * What `failover`, `failback` and `plan` do with Temporal: plan, start, follow. Over Temporal's HTTP API when
 * `temporal.httpAddress` is set and answers — no gRPC client to load, ~300 ms less per command — and over gRPC
 * otherwise. Either way the worker must be polling the task queue, or the session is not opened (exit 3).
 */
export interface FailoverSession {
  readonly transport: 'http' | 'grpc';
  plan(target: RunTarget, signer: OperatorSigner): Promise<ReviewedPlanResult>;
  /** Starts the run and waits for its start verdict (a refused start is exit 4 with the worker's reason). */
  start(
    target: RunTarget,
    options: { reason: string; signer: OperatorSigner; now: Date; forceReason?: string },
  ): Promise<StartedRun>;
  follow(workflowId: string, runId: string, options: { live: boolean }): Promise<FailoverResult>;
  /** The state of each follow-up the run started (fencing an old primary it went on without). */
  followUpStates(progress: Pick<FailoverResult, 'followUps'>): Promise<FollowUpStates>;
  close(): Promise<void>;
}

/** The HTTP API's first answer (the task queue's pollers) gives up after this and the session goes over gRPC. */
const HTTP_TIMEOUT_MS = 2_000;
/** However long the HTTP attempt took, gRPC still gets this long to connect. */
const MIN_CONNECT_MS = 2_000;

export async function openFailoverSession(config: DrctlConfig): Promise<FailoverSession> {
  const started = performance.now();
  const { namespace, taskQueue } = config.temporal;
  const opened = await openHttpRuns(config, taskQueue, { timeoutMs: HTTP_TIMEOUT_MS });
  if (opened !== undefined) {
    if (opened.pollers === 0) {
      opened.runs.close();
      throw noWorkerError(namespace, taskQueue);
    }
    return httpSession(opened.runs, taskQueue);
  }
  // Whatever the HTTP attempt took comes off the gRPC connect's time, so Temporal being down is said in time.
  const { client, close } = await connectClient(config, {
    connectTimeoutMs: Math.max(MIN_CONNECT_MS, CONNECT_TIMEOUT_MS - (performance.now() - started)),
  });
  try {
    await requireWorker(client, namespace, taskQueue);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    transport: 'grpc',
    plan: (target, signer) => planFailover(client, taskQueue, target, signer),
    start: (target, options) => startFailover(client, taskQueue, target, options),
    follow: (workflowId, runId, options) => followRun(client, workflowId, { ...options, runId }),
    followUpStates: (progress) => followUpStates(readFollowUpOverGrpc(client), progress),
    close,
  };
}

function httpSession(runs: HttpRuns, taskQueue: string): FailoverSession {
  return {
    transport: 'http',
    plan: async (target, signer) => {
      const start = planStart(taskQueue, target, signer);
      const runId = await startOverHttp(runs, start);
      const outcome = await closeOutcomeOverHttp(runs, start.workflowId, runId);
      if (outcome.status === 'COMPLETED') return outcome.result as ReviewedPlanResult;
      const refusal =
        outcome.status === 'FAILED' ? refusalOf(outcome.failureType, outcome.message) : undefined;
      if (refusal) throw planRefused(refusal);
      throw new Error(`the plan ${start.workflowId} did not complete: ${terminalSafe(outcome.message)}`);
    },
    start: async (target, options) => {
      const start = failoverStart(taskQueue, target, options);
      const runId = await startOverHttp(runs, start).catch((error: unknown) => {
        throw error instanceof WorkflowAlreadyOpenError
          ? alreadyRunning(target.reference.id, start.workflowId)
          : error;
      });
      const { workflowId } = start;
      await stillRunningIfUnreachable(
        workflowId,
        awaitVerdict({
          running: async () => (await statusOverHttp(runs, workflowId, runId)) === 'RUNNING',
          authorized: async () =>
            (
              await queryOverHttp<{ authorization?: unknown }>(runs, workflowId, runId, 'progress').catch(
                () => undefined,
              )
            )?.authorization !== undefined,
          refusal: async () => {
            const outcome = await closeOutcomeOverHttp(runs, workflowId, runId);
            return outcome.status === 'FAILED' ? refusalOf(outcome.failureType, outcome.message) : undefined;
          },
        }),
      );
      return { workflowId, runId };
    },
    follow: (workflowId, runId, options) =>
      stillRunningIfUnreachable(
        workflowId,
        followFeed(httpFeed(runs, workflowId, runId), workflowId, options),
      ),
    followUpStates: (progress) => followUpStates(readFollowUpOverHttp(runs), progress),
    close: async () => runs.close(),
  };
}

/** A started run goes on when the HTTP API stops answering: say so, and how to pick it up again. */
async function stillRunningIfUnreachable<T>(workflowId: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof TemporalHttpUnreachableError)) throw error;
    throw new CliError(
      error.code,
      `${error.message}. ${workflowId} was started and goes on without this command: follow it again with drctl status ${workflowId} --follow`,
      ExitCode.Environment,
    );
  }
}

/** A follow-up over the HTTP API, as over gRPC: its live state while it runs, else its result. */
function readFollowUpOverHttp(runs: HttpRuns): FollowUpReader {
  return async (workflowId, runId = '') => {
    if ((await statusOverHttp(runs, workflowId, runId)) === 'RUNNING')
      return queryOverHttp<FenceFollowUpState>(runs, workflowId, runId, 'followUp');
    const outcome = await closeOutcomeOverHttp(runs, workflowId, runId);
    if (outcome.status === 'COMPLETED') return outcome.result as FenceFollowUpState;
    throw new Error(outcome.message);
  };
}

function httpFeed(runs: HttpRuns, workflowId: string, runId: string): RunFeed {
  return {
    news: () => watchOverHttp(runs, workflowId, runId),
    query: (queryType, ...args) => queryOverHttp(runs, workflowId, runId, queryType, args),
    finalState: async (): Promise<RunState> => {
      const outcome = await closeOutcomeOverHttp(runs, workflowId, runId);
      const result = resultOf(outcome);
      if (result !== undefined) return { closed: true, result };
      const status = outcome.status === 'OTHER' ? outcome.closedAs : outcome.status;
      const message = outcome.status === 'COMPLETED' ? 'completed without a result' : outcome.message;
      return { closed: true, result: undefined, status, message };
    },
  };
}
