import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import type { SearchAttributePair } from '@temporalio/common/lib/search-attributes';
import { backOff } from 'exponential-backoff';
import type { HistoryNews } from '../activities/runs/history-watch';
import { codecFromConfig } from '../security/codec/data-converter';
import type { DrctlConfig } from '../worker/config';
import { decodeValues, encodeValues, toWire, type PayloadCodecLike } from './http-payloads';
import type { FailoverResult } from '../workflows/run-types';
import {
  temporalHttpFromConfig,
  TemporalHttpError,
  type CallOptions,
  type TemporalHttp,
} from './temporal-http';

/**
 * Runs over Temporal's HTTP API (the frontend's JSON mapping of the WorkflowService the gRPC client calls): start
 * a workflow, wait on its history, query it, read how it closed. A command that only starts and watches a run
 * does it all here without loading the gRPC client (~300 ms of a cold CLI). Payloads go through the same payload
 * converter and codec as over gRPC, so history holds the same encrypted bytes whichever transport carried them.
 */
export interface HttpRuns {
  http: TemporalHttp;
  codec: PayloadCodecLike | undefined;
  close(): void;
}

/** A workflow start as both transports send it (the gRPC path passes the same fields to `client.workflow.start`). */
export interface WorkflowStart {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  typedSearchAttributes: SearchAttributePair[];
  workflowIdConflictPolicy?: 'FAIL';
  workflowIdReusePolicy?: 'ALLOW_DUPLICATE';
  /** The run's execution timeout, in seconds. */
  workflowExecutionTimeoutSeconds?: number;
}

/** How a run closed, read from its close event (values decoded). */
export type CloseOutcome =
  | { status: 'COMPLETED'; result: unknown }
  | { status: 'FAILED'; failureType?: string; message: string; details: unknown[] }
  /** Canceled, terminated, timed out, continued as new. */
  | { status: 'OTHER'; closedAs: string; message: string };

/** A start the server refused because a run with that id is open (gRPC ALREADY_EXISTS). */
export class WorkflowAlreadyOpenError extends Error {
  constructor(readonly workflowId: string) {
    super(`a run with workflow id ${workflowId} is already open`);
    this.name = 'WorkflowAlreadyOpenError';
  }
}

const GRPC_ALREADY_EXISTS = 6;
/** The frontend answers a history long poll after at most ~20 s; a little more before calling it lost. */
const LONG_POLL_TIMEOUT_MS = 70_000;
/** A lost answer to a start is retried with the same request id: the server returns the run it started. */
const START_ATTEMPTS = 4;
/** Enough for a busy server; a server that keeps refusing longer is reported, not waited on. */
const START_RETRY = { startingDelay: 200, timeMultiple: 2, maxDelay: 2_000 } as const;

const workflowPath = (workflowId: string) => `/workflows/${encodeURIComponent(workflowId)}`;

/**
 * The HTTP API as configured (`temporal.httpAddress`), when its server answers within `timeoutMs`: the number of
 * workflow pollers on `taskQueue` comes back with it, so the caller can refuse a queue nobody serves. Undefined
 * when there is no address (or an API key) or the server does not answer: the caller goes over gRPC.
 */
export async function openHttpRuns(
  config: Pick<DrctlConfig, 'temporal' | 'codec' | 'aws'>,
  taskQueue: string,
  options: { timeoutMs: number },
): Promise<{ runs: HttpRuns; pollers: number } | undefined> {
  const http = temporalHttpFromConfig(config.temporal, options);
  if (http === undefined) return undefined;
  const described = (await http
    .get(`/task-queues/${encodeURIComponent(taskQueue)}`, { taskQueueType: 'TASK_QUEUE_TYPE_WORKFLOW' })
    .catch(() => undefined)) as { pollers?: unknown[] } | undefined;
  if (described === undefined) return undefined;
  const codec = codecFromConfig(config);
  return {
    runs: { http, codec: codec?.codec, close: () => codec?.close() },
    pollers: described.pollers?.length ?? 0,
  };
}

/**
 * Starts a workflow and returns its run id. One request id for every attempt: when an answer is lost (timeout,
 * reset, a 5xx) the retry returns the run the first attempt started, never a second run — the server matches the
 * request id, as it does for the gRPC client's own retries. A run with the id already open is
 * WorkflowAlreadyOpenError; any other refusal is thrown as the server's error.
 */
export async function startOverHttp(runs: HttpRuns, start: WorkflowStart): Promise<string> {
  const body = {
    workflowId: start.workflowId,
    workflowType: { name: start.workflowType },
    taskQueue: { name: start.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    input: { payloads: await encodeValues(start.args, runs.codec) },
    identity: `${process.pid}@${hostname()}`,
    requestId: randomUUID(),
    ...(start.workflowIdConflictPolicy === undefined
      ? {}
      : { workflowIdConflictPolicy: `WORKFLOW_ID_CONFLICT_POLICY_${start.workflowIdConflictPolicy}` }),
    ...(start.workflowIdReusePolicy === undefined
      ? {}
      : { workflowIdReusePolicy: `WORKFLOW_ID_REUSE_POLICY_${start.workflowIdReusePolicy}` }),
    ...(start.workflowExecutionTimeoutSeconds === undefined
      ? {}
      : { workflowExecutionTimeout: `${start.workflowExecutionTimeoutSeconds}s` }),
    searchAttributes: {
      indexedFields: Object.fromEntries(
        Object.entries(encodeUnifiedSearchAttributes(undefined, start.typedSearchAttributes)).map(
          ([key, payload]) => [key, toWire(payload)],
        ),
      ),
    },
  };
  try {
    const started = (await backOff(() => runs.http.post(workflowPath(start.workflowId), body), {
      ...START_RETRY,
      numOfAttempts: START_ATTEMPTS,
      retry: (error: unknown) => !(error instanceof TemporalHttpError) || error.httpStatus >= 500,
    })) as { runId?: string };
    if (typeof started.runId !== 'string') throw new Error('the start answered without a run id');
    return started.runId;
  } catch (error) {
    if (error instanceof TemporalHttpError && error.grpcCode === GRPC_ALREADY_EXISTS) {
      throw new WorkflowAlreadyOpenError(start.workflowId);
    }
    throw error;
  }
}

/**
 * Waits on a run's history with the HTTP API's long poll (`waitNewEvent`), like `watchHistory` does over gRPC:
 * one yield per answer that carried events; `progressed` when a workflow task completed. Ends at the close event.
 */
export async function* watchOverHttp(
  runs: HttpRuns,
  workflowId: string,
  runId: string,
): AsyncGenerator<HistoryNews> {
  let nextPageToken: string | undefined;
  for (;;) {
    const answer = (await runs.http.get(
      `${workflowPath(workflowId)}/history`,
      { 'execution.runId': runId, waitNewEvent: 'true', skipArchival: 'true', nextPageToken },
      { timeoutMs: LONG_POLL_TIMEOUT_MS },
    )) as { history?: { events?: { eventType?: string }[] }; nextPageToken?: string };
    const events = answer.history?.events ?? [];
    nextPageToken =
      answer.nextPageToken === undefined || answer.nextPageToken === '' ? undefined : answer.nextPageToken;
    if (events.length === 0) {
      if (nextPageToken === undefined) return;
      continue;
    }
    const closed = events.some((event) => CLOSING_EVENTS.has(event.eventType ?? ''));
    const progressed = events.some((event) => event.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
    yield { progressed: progressed || closed, closed };
    if (closed) return;
  }
}

const CLOSING_EVENTS = new Set(
  ['COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'].map(
    (status) => `EVENT_TYPE_WORKFLOW_EXECUTION_${status}`,
  ),
);

/** Temporal's status of a run: RUNNING, COMPLETED, FAILED, … */
export async function statusOverHttp(runs: HttpRuns, workflowId: string, runId: string): Promise<string> {
  const described = (await runs.http.get(workflowPath(workflowId), { 'execution.runId': runId })) as {
    workflowExecutionInfo?: { status?: string };
  };
  return (described.workflowExecutionInfo?.status ?? '').replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
}

/**
 * Asks a run a query; its answer decoded. A rejected query or a server error is thrown with its message. The
 * answer waits for a workflow task in progress (which may run a step's local read), so it gets a long poll's time.
 */
export async function queryOverHttp<T>(
  runs: HttpRuns,
  workflowId: string,
  runId: string,
  queryType: string,
  args: unknown[] = [],
  options: CallOptions = { timeoutMs: LONG_POLL_TIMEOUT_MS },
): Promise<T> {
  const answer = (await runs.http.post(
    `${workflowPath(workflowId)}/query/${encodeURIComponent(queryType)}`,
    {
      execution: { workflowId, runId },
      query: {
        queryType,
        ...(args.length === 0 ? {} : { queryArgs: { payloads: await encodeValues(args, runs.codec) } }),
      },
    },
    options,
  )) as { queryResult?: { payloads?: unknown }; queryRejected?: { status?: string } };
  if (answer.queryRejected !== undefined) {
    throw new Error(
      `the query ${queryType} was rejected: the run is ${answer.queryRejected.status ?? 'closed'}`,
    );
  }
  const [value] = await decodeValues(answer.queryResult?.payloads ?? [], runs.codec);
  return value as T;
}

/**
 * How a run ended, from its close event: the server holds the read until the run closes (a long poll, asked again
 * when it answers empty). A failure's message is read from its encoded attributes (drctl's failure converter moves
 * failure text into an encrypted payload).
 */
export async function closeOutcomeOverHttp(
  runs: HttpRuns,
  workflowId: string,
  runId: string,
): Promise<CloseOutcome> {
  let close: CloseEvent | undefined;
  while (close === undefined) {
    const answer = (await runs.http.get(
      `${workflowPath(workflowId)}/history`,
      {
        'execution.runId': runId,
        historyEventFilterType: 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
        waitNewEvent: 'true',
      },
      { timeoutMs: LONG_POLL_TIMEOUT_MS },
    )) as { history?: { events?: CloseEvent[] } };
    close = answer.history?.events?.[0];
  }
  const status = (close.eventType ?? '').replace(/^EVENT_TYPE_WORKFLOW_EXECUTION_/, '');
  const completed = close.workflowExecutionCompletedEventAttributes;
  const failed = close.workflowExecutionFailedEventAttributes;
  // A run continued as new, or retried, has its answer in the next run.
  const next = completed?.newExecutionRunId ?? failed?.newExecutionRunId;
  if (next !== undefined)
    return { status: 'OTHER', closedAs: status, message: `the run went on as run ${next}` };
  if (completed !== undefined) {
    const [result] = await decodeValues(completed.result?.payloads ?? [], runs.codec);
    return { status: 'COMPLETED', result };
  }
  const failure = failed?.failure;
  if (failure !== undefined) {
    const [encoded] =
      failure.encodedAttributes === undefined
        ? [undefined]
        : await decodeValues([failure.encodedAttributes], runs.codec);
    const message = (encoded as { message?: unknown } | undefined)?.message;
    return {
      status: 'FAILED',
      ...(failure.applicationFailureInfo?.type === undefined
        ? {}
        : { failureType: failure.applicationFailureInfo.type }),
      message: typeof message === 'string' ? message : (failure.message ?? 'failed'),
      details: await decodeValues(failure.applicationFailureInfo?.details?.payloads ?? [], runs.codec),
    };
  }
  return {
    status: 'OTHER',
    closedAs: status,
    message: `the run ended ${status.toLowerCase().replace(/_/g, ' ')}`,
  };
}

/** A failover's recorded result: its return value, or a failed failover's first failure detail (its timeline). */
export function resultOf(outcome: CloseOutcome): FailoverResult | undefined {
  if (outcome.status === 'COMPLETED' && isFailoverResult(outcome.result)) return outcome.result;
  if (outcome.status === 'FAILED' && isFailoverResult(outcome.details[0])) return outcome.details[0];
  return undefined;
}

/** Shaped as a failover's progress or result (a timeline). */
export function isFailoverResult(value: unknown): value is FailoverResult {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as { timeline?: unknown }).timeline)
  );
}

interface CloseEvent {
  eventType?: string;
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: unknown }; newExecutionRunId?: string };
  workflowExecutionFailedEventAttributes?: {
    newExecutionRunId?: string;
    failure?: {
      message?: string;
      encodedAttributes?: unknown;
      applicationFailureInfo?: { type?: string; details?: { payloads?: unknown } };
    };
  };
}
