import { condition, log, proxyLocalActivities, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { HolderActivities, HolderState } from '../activities/runs/holder-contracts';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { releaseMemoKey, type RecordedHeldReport, type RecordedRelease } from '../common/held-release';
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
  /** How the reasons name the held run (`this run`). */
  called?: string;
}

/**
 * Released, or why not (the run ends having changed nothing). `atMs`: when the read that saw the release was made,
 * for what the run decides next on time: its own clock there is the workflow task's, which a replay may see
 * earlier than the live run did (Temporal's core can deliver a local activity's answer in a task of its own live,
 * and in the task that recorded it on replay), so a decision near a threshold could go the other way.
 */
export type HoldOutcome = { released: true; atMs: number } | { released: false; why: string };

/** A parent in one of these is gone for good: it will never release the run it holds. */
const ENDED_STATUSES: ReadonlySet<string> = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'TIMED_OUT',
  'CONTINUED_AS_NEW',
  'NOT_FOUND',
]);

/** After a read that failed (Temporal busy or unreachable), the held run looks again this soon. */
export const FAILED_READ_LOOK_MS = 10_000;

/** The parent's record, if it is for this run: a record naming another run id (pre-seeded in a start) is none. */
function ownRecord(release: RecordedRelease | undefined): RecordedRelease | undefined {
  return release?.runId === workflowInfo().runId ? release : undefined;
}

/** Looks at the parent a little before or after `ms`: held runs started together do not read it together. */
function jittered(ms: number): number {
  return Math.round(ms * (0.85 + Math.random() * 0.3));
}

/**
 * Waits, changing nothing, until the parent records this run's release in its memo (`common/held-release.ts`).
 * A `release` signal nobody recorded (anyone may signal) changes nothing but a look: the run keeps waiting, and
 * the worker's log says so; so does a read that failed (the run looks again soon, still held). Ends unreleased
 * when the parent recorded a drop, when it has ended, when `withinMs` ran out, or on an abort.
 */
export async function awaitParentRelease(hold: ParentHold): Promise<HoldOutcome> {
  const holderId = hold.parent.workflowId;
  const held = hold.called ?? 'this run';
  const deadline = hold.withinMs === undefined ? undefined : Date.now() + hold.withinMs;
  let lookInMs = FIRST_HOLDER_CHECK_MS;
  let readFailed = false;
  // No signal counted yet: one that came before the hold began (the run was still starting) makes a look now.
  let seen = 0;
  for (;;) {
    const waitMs = readFailed ? FAILED_READ_LOOK_MS : jittered(lookInMs);
    const untilLook = deadline === undefined ? waitMs : Math.min(waitMs, deadline - Date.now());
    const nudged = await condition(() => hold.nudges() > seen || hold.aborted(), Math.max(1, untilLook));
    if (hold.aborted()) return { released: false, why: `aborted before ${holderId} released ${held}` };
    // Counted before the read: a signal that comes while it runs makes another look.
    seen = hold.nudges();
    let state: HolderState | undefined;
    try {
      state = await holder.readHolder({ ...hold.parent, runbookId: hold.runbookId });
    } catch (error) {
      log.warn('could not read the parent holding this run; it stays held and looks again', {
        workflowId: workflowInfo().workflowId,
        parent: holderId,
        error: innermostMessage(error),
      });
    }
    readFailed = state === undefined;
    const readAtMs = state?.readAtMs ?? Date.now();
    const release = ownRecord(state?.release);
    if (release?.proceed === true) return { released: true, atMs: readAtMs };
    if (release !== undefined)
      return { released: false, why: `${holderId} called ${held} off (${release.reason})` };
    if (state !== undefined && ENDED_STATUSES.has(state.status))
      return {
        released: false,
        why: `${holderId} ended (${state.status.toLowerCase()}) without releasing ${held}`,
      };
    if (deadline !== undefined && readAtMs >= deadline)
      return {
        released: false,
        why: `${holderId} did not release ${held} within ${Math.round((hold.withinMs ?? 0) / 60_000)} min (the hold ran out)`,
      };
    if (state !== undefined && nudged)
      log.warn('a release signal its parent did not record was ignored; the run stays held', {
        workflowId: workflowInfo().workflowId,
        parent: holderId,
      });
    else if (state !== undefined) lookInMs = Math.min(lookInMs * 2, LAST_HOLDER_CHECK_MS);
  }
}

/** How much of a release's reason the parent records (the signal carries it whole). */
const RECORDED_REASON_CHARS = 160;

/**
 * The parent's side: records its release (or drop) of the run it holds in its own memo, for that run's id, then
 * signals it. Both leave in the same workflow task, so the record is there before the signal reaches the run.
 * `recorded` false: a parent whose history began before releases were recorded (its children never read them).
 */
export async function releaseHeld(
  handle: {
    firstExecutionRunId: string;
    signal: (signal: typeof releaseSignal, request: ReleaseRequest) => Promise<void>;
  },
  heldId: string,
  request: ReleaseRequest,
  recorded: boolean,
): Promise<void> {
  if (recorded) {
    const record: RecordedRelease = {
      proceed: request.proceed,
      runId: handle.firstExecutionRunId,
      reason: request.reason.slice(0, RECORDED_REASON_CHARS),
    };
    upsertMemo({ [releaseMemoKey(heldId)]: record });
  }
  await handle.signal(releaseSignal, request);
}

/**
 * The holding parent's side of the other report: a drill waits for the evacuation it started to record whether
 * it holds every lock (`HELD_REPORT_MEMO_KEY`). An `evacuationHeld` signal only makes it read the evacuation; a
 * signal the evacuation did not record changes nothing (a forged "held" would have the drill inject its failure
 * while another run holds a lock). Undefined once the evacuation ended without a report.
 */
export async function awaitHeldReport(held: {
  run: { workflowId: string; runId: string };
  nudges: () => number;
  ended: () => boolean;
}): Promise<RecordedHeldReport | undefined> {
  let seen = 0;
  let readFailed = false;
  for (;;) {
    const wake = () => held.nudges() > seen || held.ended();
    await (readFailed ? condition(wake, FAILED_READ_LOOK_MS) : condition(wake));
    seen = held.nudges();
    const ended = held.ended();
    const state = await holder.readHeldReport(held.run).catch((error: unknown) => {
      log.warn('could not read the held evacuation; the drill waits and looks again', {
        workflowId: workflowInfo().workflowId,
        evacuation: held.run.workflowId,
        error: innermostMessage(error),
      });
      return undefined;
    });
    readFailed = state === undefined;
    if (state?.report !== undefined) return state.report;
    if (ended) return undefined;
    if (state !== undefined)
      log.warn('an evacuationHeld signal the evacuation did not record was ignored', {
        workflowId: workflowInfo().workflowId,
        evacuation: held.run.workflowId,
      });
  }
}
