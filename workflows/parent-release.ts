import { condition, log, proxyLocalActivities, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { HolderActivities, HolderState } from '../activities/runs/holder-contracts';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { releaseMemoKey } from '../common/held-release';
import { releaseSignal, type ReleaseRequest } from './operator-decision';
import { innermostMessage } from './innermost-message';

/**
 * The first look at the parent, when no signal came, after this long; each later one after twice the wait
 * before, up to `LAST_HOLDER_CHECK_MS`. A parent that ended without releasing (terminated, reset away) is seen
 * within minutes and its held failover frees the runbook's lock; a long hold (a wave waiting hours for its
 * approval) costs one read every few minutes. An evacuation's held failovers are released within seconds at
 * fleet scale, before the first look.
 */
export const FIRST_HOLDER_CHECK_MS = 30_000;
export const LAST_HOLDER_CHECK_MS = 10 * 60_000;

const holder = proxyLocalActivities<HolderActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
  },
});

/** What held a run, and how it waits for it. */
export interface ParentHold {
  /** The parent's run (`workflowInfo().parent`), and the runbook whose release it records. */
  parent: { workflowId: string; runId: string };
  runbookId: string;
  /** Ends the hold after this many ms without a release; none: as long as the parent runs. */
  withinMs?: number;
  /** How many `release` signals came so far: each makes the run look at its parent now. */
  nudges: () => number;
  /** Set once an operator aborted the held run. */
  aborted: () => boolean;
}

/** Released, or why not (the run ends having changed nothing). */
export type HoldOutcome = { released: true } | { released: false; why: string };

/**
 * Waits, changing nothing, until the parent records this run's release in its memo (`common/held-release.ts`).
 * A `release` signal nobody recorded (anyone may signal) changes nothing but a look: the run keeps waiting, and
 * the worker's log says so. Ends unreleased when the parent recorded a drop, when it is no longer running, when
 * `withinMs` ran out, or on an abort.
 */
export async function awaitParentRelease(hold: ParentHold): Promise<HoldOutcome> {
  const holderId = hold.parent.workflowId;
  const deadline = hold.withinMs === undefined ? undefined : Date.now() + hold.withinMs;
  let nextLookMs = FIRST_HOLDER_CHECK_MS;
  for (;;) {
    const seen = hold.nudges();
    const untilLook = deadline === undefined ? nextLookMs : Math.min(nextLookMs, deadline - Date.now());
    const nudged = await condition(() => hold.nudges() > seen || hold.aborted(), Math.max(1, untilLook));
    if (hold.aborted()) return { released: false, why: `aborted before ${holderId} released this run` };
    let state: HolderState;
    try {
      state = await holder.readHolder({ ...hold.parent, runbookId: hold.runbookId });
    } catch (error) {
      return {
        released: false,
        why: `could not read ${holderId} to confirm its release (${innermostMessage(error)})`,
      };
    }
    if (state.release?.proceed === true) return { released: true };
    if (state.release !== undefined)
      return { released: false, why: `${holderId} called this run off (${state.release.reason})` };
    if (state.status !== 'RUNNING')
      return {
        released: false,
        why: `${holderId} ended (${state.status.toLowerCase()}) without releasing this run`,
      };
    if (deadline !== undefined && Date.now() >= deadline)
      return {
        released: false,
        why: `${holderId} did not release this run within ${Math.round((hold.withinMs ?? 0) / 60_000)} min (the hold ran out)`,
      };
    if (nudged)
      log.warn('a release signal its parent did not record was ignored; the run stays held', {
        workflowId: workflowInfo().workflowId,
        parent: holderId,
      });
    else nextLookMs = Math.min(nextLookMs * 2, LAST_HOLDER_CHECK_MS);
  }
}

/**
 * The parent's side: records its release (or drop) of the held failover of `runbookId` in its own memo, then
 * signals it. Both leave in the same workflow task, so the record is there before the signal reaches the run.
 * `recorded` false: a parent whose history began before releases were recorded (its children never read them).
 */
export async function releaseHeld(
  handle: { signal: (signal: typeof releaseSignal, request: ReleaseRequest) => Promise<void> },
  runbookId: string,
  request: ReleaseRequest,
  recorded: boolean,
): Promise<void> {
  if (recorded)
    upsertMemo({ [releaseMemoKey(runbookId)]: { proceed: request.proceed, reason: request.reason } });
  await handle.signal(releaseSignal, request);
}
