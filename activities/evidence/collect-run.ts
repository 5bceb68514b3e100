/**
 * Exports one closed run from Temporal as the files of its evidence bundle: the full event history (the JSON
 * `temporal workflow show --output json` gives, payloads as stored), the result, the runbook as it ran (taken
 * from the workflow's input in that history) and the operator actions as its timeline recorded them, and the
 * reports rendered from the result. A drill's bundle also holds its failover's history and result. Nothing
 * comes from the worker's configuration, so no secret can reach the bundle by this path.
 */
import { WorkflowContinuedAsNewError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { BundleContent, BundleFile } from '../../evidence/append-bundle';
import type { EvidenceRequest } from '../../evidence/ledger-protocol';
import { sha256Hex, type EvidenceRun, type EvidenceRunKind } from '../../evidence/manifest';
import { renderFailoverJson, renderFailoverMarkdown } from '../../reports/render-failover';
import { renderReport } from '../../reports';
import type { LoadedPolicy } from '../../auth/access-policy';
import { signatureCheckFor } from '../../auth/recorded-actions';
import { failoverRunRecord } from '../../reports/failover-run-record';
import type { AuditContext } from '../../reports/audit-mapping';
import type { Runbook } from '../../runbooks/schema';
import type { EvacuationCover } from '../../evacuations/evacuation-hash';
import { drillOutcome, type DrillResult } from '../../workflows/drill-types';
import type { EvacuationDrillResult } from '../../workflows/evacuation-drill-types';
import type { FailoverResult } from '../../workflows/run-types';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';
import { canonicalJson } from '../../auth/canonical-json';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { reviewedEvacuationIn, reviewedRunbookIn } from './reviewed-runbook';
import { runOutcome } from '../../workflows/run-outcome';
import type { FenceFollowUpState } from '../../workflows/fence-follow-up-types';

const JSON_TYPE = 'application/json';

export const EVIDENCE_WORKFLOW_TYPES: Record<string, 'failover' | 'drill'> = {
  failoverWorkflow: 'failover',
  drillWorkflow: 'drill',
  evacuationDrillWorkflow: 'drill',
};

interface ExportedRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  closeStatus: string;
  startedAt: string;
  closedAt: string;
  historyJson: string;
  input: unknown;
  /** The runbook the run loaded from the worker's reviewed catalog, if it got that far. */
  reviewed: { runbook: Runbook; sha256: string } | undefined;
  /** The evacuation a drill of one loaded from the worker's reviewed evacuations. */
  reviewedEvacuation: { cover: EvacuationCover; sha256: string } | undefined;
  result: unknown;
  children: Array<{ workflowId: string; runId: string; workflowType: string }>;
}

export interface CollectOptions {
  /** The access policy that verifies operator signatures for the drill report; without it none is "verified". */
  loadPolicy?: () => LoadedPolicy;
}

export async function collectRun(
  client: Client,
  request: EvidenceRequest,
  options: CollectOptions = {},
): Promise<BundleContent> {
  if (request.workflowType === FOLLOW_UP_TYPE)
    return followUpBundle(await exportRun(client, request.workflowId, request.runId));
  const kindOfType = EVIDENCE_WORKFLOW_TYPES[request.workflowType];
  if (!kindOfType) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `run ${request.workflowId} is a ${request.workflowType}: evidence bundles are kept for failoverWorkflow and drillWorkflow runs only`,
    );
  }
  const run = await exportRun(client, request.workflowId, request.runId);
  const children = await Promise.all(run.children.map((child) => exportChild(client, child)));
  if (request.workflowType === 'evacuationDrillWorkflow') return evacuationDrillBundle(run, children);
  // The input names the runbook (id and sha256); the runbook itself is the reviewed catalog's, in history.
  const runbook = run.reviewed?.runbook ?? (run.input as { runbook?: Runbook } | undefined)?.runbook;
  if (!runbook) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `run ${request.workflowId} has no runbook in its input: it was not started by drctl`,
    );
  }
  const runbookJson = Buffer.from(run.reviewed ? canonicalJson(runbook) : JSON.stringify(runbook), 'utf8');
  const files: BundleFile[] = [
    { path: 'history.json', body: Buffer.from(run.historyJson, 'utf8'), contentType: JSON_TYPE },
    { path: 'result.json', body: json(run.result ?? null), contentType: JSON_TYPE },
    // The reviewed runbook in exactly the bytes its runbookHash is the sha256 of (canonical JSON); a run refused
    // before it loaded one keeps the reference it was started with.
    { path: 'runbook.json', body: runbookJson, contentType: JSON_TYPE },
  ];

  const kind = evidenceKindOf(request.workflowType, runbook) ?? kindOfType;
  let outcome: string;
  if (kindOfType === 'drill') {
    const drill = run.result as DrillResult | undefined;
    const failover = children.filter(isExported).find((child) => child.workflowType === 'failoverWorkflow');
    const failoverResult = failover?.result as FailoverResult | undefined;
    const operatorActions = failoverResult?.operatorActions ?? [];
    files.push({ path: 'operator-actions.json', body: json(operatorActions), contentType: JSON_TYPE });
    if (drill?.drillId) {
      const audit: AuditContext = {
        operatorActions,
        ...(options.loadPolicy && failover && failoverResult
          ? {
              checkSignature: signatureCheckFor(
                failoverRunRecord(failover.workflowId, failoverResult, drill.drillId),
                options.loadPolicy(),
              ),
            }
          : {}),
      };
      files.push(
        {
          path: 'reports/report.md',
          body: utf8(renderReport(drill, 'md', [], audit)),
          contentType: 'text/markdown',
        },
        {
          path: 'reports/report.html',
          body: utf8(renderReport(drill, 'html', [], audit)),
          contentType: 'text/html',
        },
        {
          path: 'reports/report.json',
          body: utf8(renderReport(drill, 'json', [], audit)),
          contentType: JSON_TYPE,
        },
        {
          path: 'reports/report.junit.xml',
          body: utf8(renderReport(drill, 'junit')),
          contentType: 'application/xml',
        },
      );
    }
    outcome = drillRunOutcome(run, drill);
    files.push(...childFiles(children));
  } else {
    const result = run.result as FailoverResult | undefined;
    files.push({
      path: 'operator-actions.json',
      body: json(result?.operatorActions ?? []),
      contentType: JSON_TYPE,
    });
    if (result?.timeline) {
      files.push(
        {
          path: 'reports/timeline.md',
          body: utf8(renderFailoverMarkdown(result)),
          contentType: 'text/markdown',
        },
        { path: 'reports/timeline.json', body: utf8(renderFailoverJson(result)), contentType: JSON_TYPE },
      );
    }
    outcome =
      result?.status !== undefined
        ? runOutcome(result)
        : refusedAtStart(run.result)
          ? 'refused'
          : run.closeStatus.toLowerCase();
  }

  const evidenceRun: EvidenceRun = {
    kind,
    workflowId: run.workflowId,
    runId: run.runId,
    workflowType: run.workflowType,
    closeStatus: run.closeStatus,
    outcome,
    runbookId: runbook.id,
    runbookSha256: sha256Hex(runbookJson),
    startedAt: run.startedAt,
    closedAt: run.closedAt,
    children: childRuns(children),
  };
  return { run: evidenceRun, files };
}

const FOLLOW_UP_TYPE = 'fenceFollowUpWorkflow';

/**
 * A fence follow-up, once it ended: its history (its last run's, after continue-as-new), its state (attempts, how
 * it ended) and the operator's signed close, if that is how. Its failover's bundle names it as running.
 */
function followUpBundle(run: ExportedRun): BundleContent {
  const state = run.result as FenceFollowUpState | undefined;
  if (state?.authorization === undefined)
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `run ${run.workflowId} ended without a follow-up's state (${run.closeStatus}): it was not started by drctl`,
    );
  return {
    run: {
      kind: 'fence-follow-up',
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      closeStatus: run.closeStatus,
      outcome: state.status,
      runbookId: state.runbookId,
      runbookSha256: state.authorization.runbookHash,
      startedAt: run.startedAt,
      closedAt: run.closedAt,
      children: [],
    },
    files: [
      { path: 'history.json', body: Buffer.from(run.historyJson, 'utf8'), contentType: JSON_TYPE },
      { path: 'result.json', body: json(state), contentType: JSON_TYPE },
      {
        path: 'operator-actions.json',
        body: json(state.closedBy === undefined ? [] : [state.closedBy]),
        contentType: JSON_TYPE,
      },
    ],
  };
}

/**
 * A drill of an evacuation: its history and result, the reviewed evacuation as signed (canonical JSON: its sha256
 * is the evacuation hash the operator signed), its operator actions, every report format, and its evacuation's
 * history and result. Each service's failover keeps a bundle of its own.
 */
function evacuationDrillBundle(run: ExportedRun, children: ChildRun[]): BundleContent {
  // A drill refused before it loaded the reviewed evacuation keeps the reference it was started with.
  const cover = run.reviewedEvacuation?.cover;
  const reference = (run.input as { evacuation?: { id?: unknown } } | undefined)?.evacuation;
  const evacuationId = cover?.evacuation.id ?? (typeof reference?.id === 'string' ? reference.id : undefined);
  if (evacuationId === undefined)
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `run ${run.workflowId} names no evacuation in its input: it was not started by drctl`,
    );
  const evacuationJson = Buffer.from(canonicalJson(cover ?? reference), 'utf8');
  const drill = run.result as EvacuationDrillResult | undefined;
  const files: BundleFile[] = [
    { path: 'history.json', body: Buffer.from(run.historyJson, 'utf8'), contentType: JSON_TYPE },
    { path: 'result.json', body: json(run.result ?? null), contentType: JSON_TYPE },
    { path: 'evacuation.json', body: evacuationJson, contentType: JSON_TYPE },
    { path: 'operator-actions.json', body: json(drill?.operatorActions ?? []), contentType: JSON_TYPE },
  ];
  if (drill?.drillId) {
    files.push(
      { path: 'reports/report.md', body: utf8(renderReport(drill, 'md')), contentType: 'text/markdown' },
      { path: 'reports/report.html', body: utf8(renderReport(drill, 'html')), contentType: 'text/html' },
      { path: 'reports/report.json', body: utf8(renderReport(drill, 'json')), contentType: JSON_TYPE },
      {
        path: 'reports/report.junit.xml',
        body: utf8(renderReport(drill, 'junit')),
        contentType: 'application/xml',
      },
    );
  }
  files.push(...childFiles(children));
  return {
    run: {
      kind: 'drill',
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      closeStatus: run.closeStatus,
      outcome: drillRunOutcome(run, drill),
      runbookId: evacuationId,
      runbookSha256: sha256Hex(evacuationJson),
      startedAt: run.startedAt,
      closedAt: run.closedAt,
      children: childRuns(children),
    },
    files,
  };
}

/**
 * What kind of run a bundle is for. A failback is `failoverWorkflow` on the runbook `failbackRunbook()` derives:
 * its id ends in `-failback` and its description says what it was derived from.
 */
export function evidenceKindOf(workflowType: string, runbook: Runbook): EvidenceRunKind | undefined {
  const kind = EVIDENCE_WORKFLOW_TYPES[workflowType];
  if (kind !== 'failover') return kind;
  return runbook.id.endsWith('-failback') && (runbook.description ?? '').startsWith('Derived from ')
    ? 'failback'
    : 'failover';
}

/** The transient failure of a run exported before it closed. */
const STILL_OPEN = 'RunStillOpen';

/**
 * A child still running when its parent is bundled: one that outlives it by design (a fence follow-up trying until
 * the old primary answers, a drill's evacuation left paused). The manifest names it as running; its history is not
 * complete, so it is not kept. Waiting for it would hold every later run's bundle behind it, for days.
 */
interface OpenChild {
  workflowId: string;
  runId: string;
  workflowType: string;
  closeStatus: 'RUNNING';
}

type ChildRun = ExportedRun | OpenChild;

function isExported(child: ChildRun): child is ExportedRun {
  return 'historyJson' in child;
}

/**
 * The children that may outlive the run that started them. Any other child still running (a drill's failover
 * recording its end) is waited for: its parent's bundle is the only one that keeps it.
 */
const OUTLIVING_CHILD_TYPES = new Set(['fenceFollowUpWorkflow', 'evacuationWorkflow']);

async function exportChild(client: Client, child: ExportedRun['children'][number]): Promise<ChildRun> {
  try {
    return await exportRun(client, child.workflowId, child.runId);
  } catch (error) {
    const outlives = OUTLIVING_CHILD_TYPES.has(child.workflowType);
    if (outlives && error instanceof ApplicationFailure && error.type === STILL_OPEN)
      return { ...child, closeStatus: 'RUNNING' };
    throw error;
  }
}

async function exportRun(client: Client, workflowId: string, runId: string): Promise<ExportedRun> {
  const handle = client.workflow.getHandle(workflowId, runId, { followRuns: false });
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if ((error as { name?: string }).name === 'WorkflowNotFoundError') {
      throw permanentFailure(
        PermanentFailure.NotFound,
        `run ${workflowId}/${runId} is not in Temporal (past the namespace's retention, or never started): its evidence cannot be exported`,
      );
    }
    throw error;
  }
  if (description.status.name === 'RUNNING') {
    throw transientFailure(
      STILL_OPEN,
      `run ${workflowId}/${runId} is still running; its history is complete only once it closes`,
    );
  }
  const history = await handle.fetchHistory();
  const converter = client.options.loadedDataConverter;
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const input = await decodeFromPayloadsAtIndex<unknown>(converter, 0, started?.input?.payloads);
  const children = events.flatMap((event) => {
    const attributes = event.childWorkflowExecutionStartedEventAttributes;
    const execution = attributes?.workflowExecution;
    return execution?.workflowId && execution.runId
      ? [
          {
            workflowId: execution.workflowId,
            runId: execution.runId,
            workflowType: attributes?.workflowType?.name ?? '',
          },
        ]
      : [];
  });
  return {
    workflowId,
    runId,
    workflowType: description.type,
    closeStatus: description.status.name,
    startedAt: description.startTime.toISOString(),
    closedAt: (description.closeTime ?? new Date()).toISOString(),
    historyJson: `${historyToJSON(history)}\n`,
    input,
    reviewed: await reviewedRunbookIn(events, converter),
    reviewedEvacuation: await reviewedEvacuationIn(events, converter),
    result: await recordedResult(handle, `${workflowId}/${runId}`, description.status.name),
    children,
  };
}

/** A drill's outcome (passed, failed, called-off, refused); else refused at its start, or how Temporal closed it. */
function drillRunOutcome(
  run: ExportedRun,
  drill: Pick<DrillResult, 'drillId' | 'passed' | 'calledOff' | 'refusal'> | undefined,
): string {
  if (drill?.drillId) return drillOutcome(drill);
  return refusedAtStart(run.result) ? 'refused' : run.closeStatus.toLowerCase();
}

/** The start was refused (the access policy, or a runbook that is not the reviewed one): nothing was changed. */
function refusedAtStart(result: unknown): boolean {
  const type = (result as { failureType?: unknown } | undefined)?.failureType;
  return type === PermanentFailure.NotAuthorized || type === PermanentFailure.RunbookMismatch;
}

/** The transient failure of a closed run whose result could not be read (Temporal unreachable, a codec or KMS error). */
const RESULT_UNREADABLE = 'RunResultUnreadable';

/**
 * The run's result; for a failed failover, the result it carried as its failure's detail; for one that failed
 * without (a refused start), its close status, error and the failure's type; for one cancelled, terminated, timed
 * out or continued as new, its close status and how it ended. Only the run's own end is recorded: an error in
 * reading it (gRPC, the payload codec) would be signed and locked into the bundle for years, so it is retried.
 */
async function recordedResult(
  handle: ReturnType<Client['workflow']['getHandle']>,
  run: string,
  status: string,
): Promise<unknown> {
  try {
    return await handle.result();
  } catch (error) {
    if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure) {
      const detail = error.cause.details?.[0];
      if (detail !== undefined) return detail;
      return { closeStatus: status, error: error.cause.message, failureType: error.cause.type ?? null };
    }
    if (error instanceof WorkflowFailedError || error instanceof WorkflowContinuedAsNewError)
      return { closeStatus: status, error: error.message };
    throw transientFailure(
      RESULT_UNREADABLE,
      `run ${run} closed ${status} but its result could not be read: ${
        (error as Error).message
      }; nothing was written, and the ledger retries the collection (check the worker's connection to Temporal and its payload codec if this persists)`,
    );
  }
}

/** Each closed child run's history and result, under `children/<workflow id>/`. */
function childFiles(children: readonly ChildRun[]): BundleFile[] {
  return children.filter(isExported).flatMap((child) => {
    const base = `children/${encodeURIComponent(child.workflowId)}`;
    return [
      { path: `${base}/history.json`, body: Buffer.from(child.historyJson, 'utf8'), contentType: JSON_TYPE },
      { path: `${base}/result.json`, body: json(child.result ?? null), contentType: JSON_TYPE },
    ];
  });
}

/** The children as the manifest lists them. */
function childRuns(children: readonly ChildRun[]): EvidenceRun['children'] {
  return children.map((child) => ({
    workflowId: child.workflowId,
    runId: child.runId,
    workflowType: child.workflowType,
    closeStatus: child.closeStatus,
  }));
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}
