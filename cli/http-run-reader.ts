import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { codecFromConfig } from '../security/codec/data-converter';
import type { DrctlConfig } from '../worker/config';
import type { FailoverProgress, FailoverResult } from '../workflows/run-types';
import type { RunState } from './failover-runs';
import { summariseRun, type RunSummary } from './runs';
import { temporalHttpFromConfig, type TemporalHttp } from './temporal-http';

/**
 * `drctl status` of a failover or failback through Temporal's HTTP API: describe the run, then its live progress
 * (the `progress` query) or its recorded result (the close event), decrypted with the same codec as over gRPC.
 * `state` is left out whenever the answer is not the plain case — another kind of run, a run that ended without a
 * result, follow-ups to read, a payload in an encoding it does not read, the server not answering a read — and the
 * command then asks over gRPC as before (reusing `run` when the describe answered), so every message and exit code
 * stays the gRPC path's. Undefined when there is no HTTP address or the describe did not answer.
 */
export async function readFailoverOverHttp(
  config: Pick<DrctlConfig, 'temporal' | 'codec' | 'aws'>,
  workflowId: string,
  runId: string | undefined,
  options: { timeoutMs: number },
): Promise<{ run: RunSummary; state?: RunState } | undefined> {
  const http = temporalHttpFromConfig(config.temporal, options);
  if (http === undefined) return undefined;
  const run = await describe(http, workflowId, runId).catch(() => undefined);
  if (run === undefined) return undefined;
  if (run.kind !== 'failover' && run.kind !== 'failback') return { run };
  const codec = codecFromConfig(config);
  try {
    const state = await readState(http, run, (payloads) => decodeValues(payloads, codec?.codec));
    const followUps = state?.closed === false ? state.progress.followUps : state?.result?.followUps;
    if (state === undefined || (followUps?.length ?? 0) > 0) return { run };
    return { run, state };
  } catch {
    return { run };
  } finally {
    codec?.close();
  }
}

type Values = (payloads: unknown) => Promise<unknown[]>;

const execution = (workflowId: string) => `/workflows/${encodeURIComponent(workflowId)}`;

async function describe(
  http: TemporalHttp,
  workflowId: string,
  runId: string | undefined,
): Promise<RunSummary> {
  const described = (await http.get(execution(workflowId), { 'execution.runId': runId })) as {
    workflowExecutionInfo: {
      execution: { workflowId: string; runId: string };
      type: { name: string };
      status: string;
      startTime: string;
      closeTime?: string;
      searchAttributes?: { indexedFields?: Record<string, unknown> };
    };
  };
  const info = described.workflowExecutionInfo;
  const fields = info.searchAttributes?.indexedFields ?? {};
  return summariseRun({
    workflowId: info.execution.workflowId,
    runId: info.execution.runId,
    type: info.type.name,
    status: info.status.replace(/^WORKFLOW_EXECUTION_STATUS_/, ''),
    startTime: new Date(info.startTime),
    ...(info.closeTime === undefined ? {} : { closeTime: new Date(info.closeTime) }),
    keyword: (key: SearchAttributeKey<'KEYWORD'>) => {
      const field = fields[key.name];
      if (field === undefined) return undefined;
      const value = defaultPayloadConverter.fromPayload(fromWire(field));
      return typeof value === 'string' ? value : undefined;
    },
  });
}

async function readState(http: TemporalHttp, run: RunSummary, values: Values): Promise<RunState | undefined> {
  const path = execution(run.workflowId);
  if (run.status === 'RUNNING') {
    const answer = (await http.post(`${path}/query/progress`, {
      execution: { workflowId: run.workflowId, runId: run.runId },
      query: { queryType: 'progress' },
    })) as { queryResult?: { payloads?: unknown }; queryRejected?: unknown };
    if (answer.queryRejected !== undefined || answer.queryResult === undefined) return undefined;
    const [progress] = await values(answer.queryResult.payloads);
    return isFailoverShaped(progress) ? { closed: false, progress: progress as FailoverProgress } : undefined;
  }
  if (run.status !== 'COMPLETED' && run.status !== 'FAILED') return undefined;
  const history = (await http.get(`${path}/history`, {
    'execution.runId': run.runId,
    historyEventFilterType: 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
  })) as { history?: { events?: CloseEvent[] } };
  const close = history.history?.events?.[0];
  const completed = close?.workflowExecutionCompletedEventAttributes;
  // A run continued as new, or retried, has its answer in the next run: the gRPC client follows the chain.
  if (completed !== undefined && completed.newExecutionRunId === undefined) {
    const [result] = await values(completed.result?.payloads ?? []);
    return isFailoverShaped(result) ? { closed: true, result: result as FailoverResult } : undefined;
  }
  const failed = close?.workflowExecutionFailedEventAttributes;
  if (failed !== undefined && failed.newExecutionRunId === undefined) {
    // A failed failover carries its result (the timeline up to the failure) as its failure's first detail.
    const [detail] = await values(failed.failure?.applicationFailureInfo?.details?.payloads ?? []);
    return isFailoverShaped(detail) ? { closed: true, result: detail as FailoverResult } : undefined;
  }
  return undefined;
}

interface CloseEvent {
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: unknown }; newExecutionRunId?: string };
  workflowExecutionFailedEventAttributes?: {
    failure?: { applicationFailureInfo?: { details?: { payloads?: unknown } } };
    newExecutionRunId?: string;
  };
}

function isFailoverShaped(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as { timeline?: unknown }).timeline)
  );
}

async function decodeValues(
  payloads: unknown,
  codec: { decode(payloads: Payload[]): Promise<Payload[]> } | undefined,
): Promise<unknown[]> {
  if (!Array.isArray(payloads)) throw new Error('payloads are not a list');
  const wire = payloads.map(fromWire);
  const decoded = codec === undefined ? wire : await codec.decode(wire);
  return decoded.map((payload) => defaultPayloadConverter.fromPayload(payload));
}

/** A payload as the HTTP API writes it: metadata values and data in base64. */
function fromWire(value: unknown): Payload {
  const { metadata, data } = (value ?? {}) as { metadata?: unknown; data?: unknown };
  if (typeof metadata !== 'object' || metadata === null || (data !== undefined && typeof data !== 'string')) {
    throw new Error('a payload not in the HTTP API form { metadata, data } (base64)');
  }
  const bytes = (base64: unknown) => {
    if (typeof base64 !== 'string') throw new Error('a payload metadata value that is not base64');
    return new Uint8Array(Buffer.from(base64, 'base64'));
  };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([key, item]) => [key, bytes(item)])),
    ...(data === undefined ? {} : { data: bytes(data) }),
  };
}
