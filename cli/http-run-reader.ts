import { defaultPayloadConverter } from '@temporalio/common/lib/converter/payload-converter';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { codecFromConfig } from '../security/codec/data-converter';
import type { DrctlConfig } from '../worker/config';
import { fromWire } from './http-payloads';
import { closeOutcomeOverHttp, isFailoverResult, queryOverHttp, resultOf, type HttpRuns } from './http-runs';
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
    const state = await readState(
      { http, codec: codec?.codec, close: () => undefined },
      run,
      options.timeoutMs,
    );
    const followUps = state?.closed === false ? state.progress.followUps : state?.result?.followUps;
    if (state === undefined || (followUps?.length ?? 0) > 0) return { run };
    return { run, state };
  } catch {
    return { run };
  } finally {
    codec?.close();
  }
}

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

/** The run's live progress, or its recorded result once closed; undefined when it is not the plain case. */
async function readState(runs: HttpRuns, run: RunSummary, timeoutMs: number): Promise<RunState | undefined> {
  if (run.status === 'RUNNING') {
    const progress = await queryOverHttp(runs, run.workflowId, run.runId, 'progress', [], { timeoutMs });
    return isFailoverResult(progress) ? { closed: false, progress } : undefined;
  }
  if (run.status !== 'COMPLETED' && run.status !== 'FAILED') return undefined;
  const outcome = await closeOutcomeOverHttp(runs, run.workflowId, run.runId);
  const result = resultOf(outcome);
  return result === undefined ? undefined : { closed: true, result };
}
