/**
 * The evidence ledger: one long-lived workflow per namespace (fixed id) and the only writer of the namespace's
 * evidence chain. Runs that end signal it (signal-with-start, from `requestEvidence`); it takes them one at a
 * time in arrival order, waits until each run is closed (its history is complete only then), and appends the
 * run's bundle through activities. A single writer is what keeps concurrent runs from forking the chain.
 * It continues as new when Temporal suggests, carrying its queue. Failing writes never drop a request: a run whose
 * bundle cannot be written goes to the back of the queue, so one run's failure does not hold up the others (the
 * chain is then not in the order the runs ended), and the ledger waits once every queued run has failed. A
 * request whose run is not in Temporal is dropped; one whose run it cannot see closed goes to the back after a
 * growing wait.
 */
import {
  ActivityFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import type { EvidenceActivities } from '../activities/evidence/evidence-contracts';
import { PermanentFailure } from '../common/failure-types';
import { failureTypeOf } from '../common/failure-type-of';
import {
  LEDGER_QUERY,
  RUN_ENDED_SIGNAL,
  requestKey,
  type EvidenceRequest,
} from '../evidence/ledger-protocol';
import { decidePatchesAtStart } from './patches-at-start';
import { nextStepAfterWaitFailure } from './evidence-ledger-retry';

export const evidenceRunEndedSignal = defineSignal<[EvidenceRequest]>(RUN_ENDED_SIGNAL);

export interface LedgerState {
  pending: EvidenceRequest[];
  /** Keys of runs recently bundled, so a repeated request (a retried signal) is not bundled twice. */
  recent: string[];
  written: number;
  lastWritten?: { sequence: number; workflowId: string; manifestSha256: string };
  /** Why the head of the queue is waiting, while it is. */
  blocked?: string;
  /** Continue as new after this many bundles even if Temporal does not suggest it yet (tests set it low). */
  continueAsNewAfter?: number;
}

export const evidenceLedgerQuery = defineQuery<LedgerState>(LEDGER_QUERY);

const RECENT_KEPT = 1000;
const DEFAULT_CONTINUE_AS_NEW_AFTER = 500;
const RETRY_BLOCKED_AFTER = '30 seconds';
/** Not bundleable at all, ever: the run is gone from Temporal, or it is not a failover or drill. */
const UNBUNDLEABLE: readonly string[] = [PermanentFailure.NotFound, PermanentFailure.InvalidState];

const waits = proxyActivities<EvidenceActivities>({
  // A run asks for its bundle as its last act, so it closes within moments; one stuck longer goes to the back.
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

const writes = proxyActivities<EvidenceActivities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [
      PermanentFailure.NotFound,
      PermanentFailure.InvalidState,
      PermanentFailure.ConfigurationMissing,
      PermanentFailure.AccessDenied,
    ],
  },
});

/**
 * Ledgers that began after this drop a request whose run is not in Temporal, and wait (growing) before the next
 * turn after a failed wait. Earlier ones moved the request to the back and waited again at once, whatever the
 * failure: their histories replay so.
 */
export const LEDGER_WAIT_BACKOFF_PATCH = 'evidence-ledger-drops-missing-runs-and-backs-off';

/**
 * Ledgers that began after this move a run whose bundle could not be written (all its attempts failed: a child
 * still open, a store error) to the back of the queue, so the runs behind it are written; they wait only once
 * every queued run has failed since the last bundle written. Earlier ones retried the same run every 30 s, and
 * one run that could not be written held up every other run's evidence as long as it failed.
 */
export const LEDGER_PASSES_FAILED_WRITE_PATCH = 'evidence-ledger-passes-a-failed-write';

export async function evidenceLedgerWorkflow(state?: Partial<LedgerState>): Promise<void> {
  decidePatchesAtStart();
  const ledger: LedgerState = {
    pending: [...(state?.pending ?? [])],
    recent: [...(state?.recent ?? [])],
    written: state?.written ?? 0,
    ...(state?.lastWritten ? { lastWritten: state.lastWritten } : {}),
    ...(state?.continueAsNewAfter ? { continueAsNewAfter: state.continueAsNewAfter } : {}),
  };
  let writtenThisRun = 0;
  let waitFailuresInARow = 0;
  /** Runs whose bundle failed since the last one written (`LEDGER_PASSES_FAILED_WRITE_PATCH`). */
  const failedWrites = new Set<string>();

  setHandler(evidenceRunEndedSignal, (request) => {
    const key = requestKey(request);
    if (ledger.recent.includes(key) || ledger.pending.some((queued) => requestKey(queued) === key)) return;
    ledger.pending.push(request);
  });
  setHandler(evidenceLedgerQuery, () => ledger);

  for (;;) {
    await condition(() => ledger.pending.length > 0);
    const request = ledger.pending[0]!;
    const key = requestKey(request);
    try {
      await waits.waitForRunClosed(request);
      waitFailuresInARow = 0;
    } catch (error) {
      if (!hasPatch(LEDGER_WAIT_BACKOFF_PATCH)) {
        ledger.blocked = `${key} has not closed: ${messageOf(error)}`;
        log.warn('evidence: run not closed yet, moving it to the back of the queue', { run: key });
        ledger.pending.push(ledger.pending.shift()!);
        continue;
      }
      const next = nextStepAfterWaitFailure(failureTypeOf(error), ++waitFailuresInARow);
      if (next.drop) {
        log.error('evidence: run is not in Temporal, dropping its request', {
          run: key,
          error: messageOf(error),
        });
        waitFailuresInARow = 0;
        done(ledger, key);
      } else {
        ledger.blocked = `${key} has not closed: ${messageOf(error)} (next try in ${next.retryAfterMs / 1000} s)`;
        log.warn('evidence: run not closed yet, moving it to the back of the queue and waiting', {
          run: key,
          retryAfterMs: next.retryAfterMs,
        });
        ledger.pending.push(ledger.pending.shift()!);
        await sleep(next.retryAfterMs);
      }
      await continueAsNewIfDue();
      continue;
    }
    try {
      const appended = await writes.writeEvidenceBundle(request);
      ledger.lastWritten = {
        sequence: appended.sequence,
        workflowId: request.workflowId,
        manifestSha256: appended.manifestSha256,
      };
      ledger.written++;
      writtenThisRun++;
      failedWrites.clear();
      done(ledger, key);
    } catch (error) {
      const type = failureTypeOf(error);
      if (type !== undefined && UNBUNDLEABLE.includes(type)) {
        log.error('evidence: run cannot be bundled, dropping its request', {
          run: key,
          error: messageOf(error),
        });
        done(ledger, key);
      } else {
        ledger.blocked = `${key}: ${messageOf(error)}`;
        if (!hasPatch(LEDGER_PASSES_FAILED_WRITE_PATCH)) {
          log.error('evidence: bundle not written, retrying the same run later', {
            run: key,
            error: messageOf(error),
          });
          await sleep(RETRY_BLOCKED_AFTER);
          continue;
        }
        failedWrites.add(key);
        ledger.pending.push(ledger.pending.shift()!);
        // `blocked` names the run at the head; the one moved back is named again when it fails again.
        if (ledger.pending.length > 1) delete ledger.blocked;
        const everyRunFailed = ledger.pending.every((queued) => failedWrites.has(requestKey(queued)));
        log.error('evidence: bundle not written, moving its run to the back of the queue', {
          run: key,
          error: messageOf(error),
          waitsFirst: everyRunFailed,
        });
        if (everyRunFailed) {
          failedWrites.clear();
          await sleep(RETRY_BLOCKED_AFTER);
        }
        await continueAsNewIfDue();
        continue;
      }
    }

    await continueAsNewIfDue();
  }

  async function continueAsNewIfDue(): Promise<void> {
    if (
      workflowInfo().continueAsNewSuggested ||
      writtenThisRun >= (ledger.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER)
    ) {
      await condition(allHandlersFinished);
      delete ledger.blocked;
      await continueAsNew<typeof evidenceLedgerWorkflow>(ledger);
    }
  }
}

function done(ledger: LedgerState, key: string): void {
  ledger.pending.shift();
  delete ledger.blocked;
  ledger.recent.push(key);
  if (ledger.recent.length > RECENT_KEPT) ledger.recent.splice(0, ledger.recent.length - RECENT_KEPT);
}

function messageOf(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(error);
}

const REQUEST_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 5 },
} as const;
const requests = proxyActivities<EvidenceActivities>(REQUEST_OPTIONS);
const localRequests = proxyLocalActivities<EvidenceActivities>(REQUEST_OPTIONS);

/**
 * Runs that began after this ask for their evidence as a local activity, in the workflow task that ends the run:
 * one task-queue round trip less at the end of every failover and drill.
 */
export const LOCAL_EVIDENCE_REQUEST_PATCH = 'evidence-request-as-local-activity';

/**
 * The one call a failover or drill makes at its very end, on every path: asks the ledger for this run's
 * evidence bundle. Runs even while the workflow is being cancelled, and never changes the run's outcome: a
 * request that cannot be made is logged (the run's own result is what it is).
 */
export async function requestEvidence(): Promise<void> {
  try {
    const via = hasPatch(LOCAL_EVIDENCE_REQUEST_PATCH) ? localRequests : requests;
    const parent = workflowInfo().parent;
    await CancellationScope.nonCancellable(() =>
      via.requestEvidence({
        parent: parent === undefined ? null : { workflowId: parent.workflowId, runId: parent.runId },
      }),
    );
  } catch (error) {
    log.error('evidence: could not ask the ledger for this run’s bundle', { error: messageOf(error) });
  }
}
