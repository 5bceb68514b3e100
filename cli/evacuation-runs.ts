import { backOff } from 'exponential-backoff';
import type { Client } from '@temporalio/client';
import { INITIATOR_KEY, KIND_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import type { LoadedEvacuation } from '../evacuations/catalog';
import { runbookSha256 } from '../auth/sha256';
import { evacuationSha256, type EvacuationReference } from '../evacuations/evacuation-hash';
import type {
  EvacuationProgress,
  EvacuationRequest,
  EvacuationResult,
} from '../evacuations/evacuation-types';
import { watchHistory } from '../activities/runs/history-watch';
import { CliError, ExitCode } from './cli-error';
import { awaitStartVerdict, refusalOf } from './failover-runs';
import { note } from './output';
import type { OperatorSigner } from './operator-signer';
import { startedRunId } from './run-ids';
import { terminalSafe } from './terminal-safe';
import { evacuationTable } from './render-evacuation';
import { evacuationRecord } from '../reports/render-evacuation';

/**
 * Refuses (exit 4, nothing started) when a runbook of this evacuation is already in a running evacuation or a
 * running failover, naming the field (`waves[0].runbooks[1]`) and the run that holds it. The fast path, read from
 * Temporal's visibility, which lags: the guarantee is the evacuation's own, which takes every runbook's lock before
 * its first effect and ends refused (`RunbookBusy`, reported by `startEvacuation` as exit 4) if one is held.
 */
export async function refuseOverlaps(client: Client, loaded: LoadedEvacuation): Promise<void> {
  const paths = new Map<string, string>();
  loaded.evacuation.waves.forEach((wave, w) =>
    wave.runbooks.forEach((service, s) => paths.set(service.runbook, `waves[${w}].runbooks[${s}]`)),
  );
  const held: string[] = [];
  for await (const execution of client.workflow.list({
    query: `${KIND_KEY.name} = 'evacuation' AND ExecutionStatus = 'Running'`,
  })) {
    const progress = await client.workflow
      .getHandle(execution.workflowId)
      .query<EvacuationProgress>('evacuationProgress')
      .catch(() => undefined);
    for (const service of progress?.services ?? []) {
      const path = paths.get(service.runbookId);
      if (path) held.push(`${path}: ${service.runbookId} is in evacuation ${execution.workflowId}, running`);
    }
  }
  const ids = [...paths.keys()].map((id) => `'${id}'`).join(', ');
  for await (const execution of client.workflow.list({
    query: `${KIND_KEY.name} = 'failover' AND ExecutionStatus = 'Running' AND ${RUNBOOK_KEY.name} IN (${ids})`,
  })) {
    const runbookId = execution.typedSearchAttributes.get(RUNBOOK_KEY) ?? '';
    const path = paths.get(runbookId);
    if (path && !held.some((line) => line.startsWith(`${path}:`)))
      held.push(`${path}: a failover of ${runbookId} is running (${execution.workflowId})`);
  }
  if (held.length > 0) {
    throw new CliError(
      'RunbookBusy',
      `not starting evacuation ${loaded.evacuation.id}: ${held.join('; ')}. An evacuation changes nothing until it holds every runbook's lock: let that run end (drctl status <run> --follow), then start the evacuation again. Abort that run only if it must not finish (an abort partway rolls it back).`,
      ExitCode.Refused,
      { held },
    );
  }
}

/**
 * The reference an operator signs: the evacuation's id and the sha256 over it and its runbooks' sha256s, as
 * loaded here; the worker recomputes it over its reviewed copies and refuses a difference.
 */
export function evacuationReference(loaded: LoadedEvacuation): EvacuationReference {
  const runbookHashes = Object.fromEntries(
    Object.entries(loaded.runbooks).map(([id, runbook]) => [id, runbookSha256(runbook)]),
  );
  return {
    id: loaded.evacuation.id,
    sha256: evacuationSha256({ evacuation: loaded.evacuation, runbookHashes }),
  };
}

/** Starts an evacuation on a signed `evacuate` statement; returns once the worker accepted the start (exit 4 if refused). */
export async function startEvacuation(
  client: Client,
  taskQueue: string,
  loaded: LoadedEvacuation,
  options: { reason: string; signer: OperatorSigner; now: Date; forceReason?: string },
): Promise<string> {
  const workflowId = startedRunId('evacuation', loaded.evacuation.id, options.now);
  const reference = evacuationReference(loaded);
  const request: EvacuationRequest = {
    evacuation: reference,
    start: options.signer.sign({
      action: 'evacuate',
      runId: workflowId,
      runbookId: reference.id,
      runbookHash: reference.sha256,
      reason: options.reason,
      ...(options.forceReason === undefined ? {} : { detail: { force: options.forceReason } }),
    }),
  };
  await client.workflow.start('evacuationWorkflow', {
    taskQueue,
    workflowId,
    args: [request],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: loaded.evacuation.id },
      { key: KIND_KEY, value: 'evacuation' },
      { key: INITIATOR_KEY, value: options.signer.name },
    ],
  });
  await awaitStartVerdict(client, workflowId);
  return workflowId;
}

/**
 * An evacuation as read: its progress while it runs, its recorded result once it ended and, for one refused at its
 * start with its services recorded (a lock held elsewhere, `RunbookBusy`), the refusal in its own words, as
 * `drctl runs` lists it. One refused before it read its plan (the access policy) has no result: `EvacuationRefused`.
 */
export interface EvacuationRead {
  closed: boolean;
  progress: EvacuationProgress;
  refusal?: string;
}

/** The evacuation's progress while it runs, its recorded result once it ended. */
export async function readEvacuation(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<EvacuationRead> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  if (description.status.name === 'RUNNING')
    return { closed: false, progress: await handle.query<EvacuationProgress>('evacuationProgress') };
  try {
    return { closed: true, progress: (await handle.result()) as EvacuationResult };
  } catch (caught) {
    const error = caught as {
      cause?: { details?: unknown[]; message?: string; type?: string };
      message?: string;
    };
    const detail = error.cause?.details?.[0] as EvacuationResult | undefined;
    const refusal = refusalOf(error.cause?.type, error.cause?.message);
    if (detail?.services)
      return { closed: true, progress: detail, ...(refusal === undefined ? {} : { refusal }) };
    // Refused before it read its plan (the access policy, a reviewed copy that differs): nothing to show but why.
    if (refusal !== undefined)
      throw new CliError(
        'EvacuationRefused',
        `${workflowId} was refused before it began; it changed nothing: ${terminalSafe(refusal)}`,
        ExitCode.Failed,
      );
    // The run's own failure (a refused start says why), not the client's "Workflow execution failed".
    throw new CliError(
      'EvacuationEndedWithoutResult',
      `${workflowId} ended ${description.status.name.toLowerCase()} without a result: ${terminalSafe(error.cause?.message ?? error.message ?? '')}`,
      ExitCode.Failed,
    );
  }
}

/** What `--output json` prints of an evacuation: its progress, marked `outcome: refused` with why when it was. */
export function evacuationJson(read: EvacuationRead): unknown {
  return evacuationRecord(read.progress, read.refusal);
}

/** Tries of the progress query after a change, and the wait before the first retry (doubling). */
const PROGRESS_QUERY_TRIES = 4;
const PROGRESS_QUERY_RETRY_MS = 100;

/**
 * The evacuation's progress, asked again when a query fails: the change it follows may be the last for hours (a
 * wave waiting for its approval), so a query lost to a busy moment (Temporal refuses a query while the run's
 * workflow task is under way and another query already waits) would leave that state unshown until the next
 * change. Undefined if every try failed.
 */
async function progressNow(client: Client, workflowId: string): Promise<EvacuationProgress | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  return backOff(() => handle.query<EvacuationProgress>('evacuationProgress'), {
    numOfAttempts: PROGRESS_QUERY_TRIES,
    startingDelay: PROGRESS_QUERY_RETRY_MS,
    timeMultiple: 2,
  }).catch(() => undefined);
}

/**
 * Shows the live table until the evacuation ends: redrawn in place on a terminal (elapsed times tick locally),
 * one line per service change otherwise. Changes are seen when they happen (the history long poll), not polled.
 */
export async function followEvacuation(
  client: Client,
  workflowId: string,
  options: { live: boolean },
): Promise<EvacuationRead> {
  const interactive = options.live && process.stderr.isTTY === true;
  let drawn = 0;
  let latest: EvacuationProgress | undefined;
  const seen = new Map<string, string>();
  let shownWaiting = new Set<string>();
  const draw = () => {
    if (!latest || !options.live) return;
    if (interactive) {
      const lines = evacuationTable(latest);
      process.stderr.write(
        `${drawn > 0 ? `\x1b[${drawn}F` : ''}${lines.map((line) => `\x1b[2K${line}`).join('\n')}\n`,
      );
      drawn = lines.length;
      return;
    }
    const [header, ...rows] = evacuationTable(latest);
    if (seen.size === 0) note(header ?? '');
    latest.services.forEach((service, index) => {
      const key = `${service.state}|${service.currentSteps.join(',')}|${service.detail ?? ''}`;
      if (seen.get(service.runbookId) === key) return;
      seen.set(service.runbookId, key);
      note(rows[index] ?? '');
    });
    // The lines after the services' (a wave waiting for its approval: what to run) once each time they appear.
    const waiting = new Set(rows.slice(latest.services.length));
    for (const line of waiting) if (!shownWaiting.has(line)) note(line);
    shownWaiting = waiting;
  };
  const ticker = interactive ? setInterval(draw, 1000) : undefined;
  try {
    for await (const news of watchHistory(client, workflowId)) {
      if (news.closed) break;
      if (!news.progressed) continue;
      latest = (await progressNow(client, workflowId)) ?? latest;
      draw();
    }
    const read = await readEvacuation(client, workflowId);
    latest = read.progress;
    draw();
    return read;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
