import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { countProviderWait } from './provider-timer';

/**
 * Polls `read` until `done` holds, heartbeating each round with what was seen, sleeping a short interval that
 * grows (200 ms, ×1.5, at most `maxIntervalMs`). While `holdInterval` says so (the provider's API budget is
 * spare) the interval stays at its start instead of growing: the wait ends at most one short interval after the
 * operation did. A sleep (`firstReadAfterMs` included) after which the state is still not done was spent waiting
 * on the provider and counts as the step's provider time (`countProviderWait`). There is no deadline here on
 * purpose: the activity's own start-to-close timeout bounds the wait, and a heartbeat timeout catches a dead
 * worker.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (state: T) => boolean,
  options: {
    initialIntervalMs?: number;
    maxIntervalMs?: number;
    holdInterval?: () => boolean;
    /** Sleeps this long before the first read too (it would find the operation just started, still pending). */
    firstReadAfterMs?: number;
    describe?: (state: T) => unknown;
  } = {},
): Promise<T> {
  let interval = options.initialIntervalMs ?? 200;
  const maxInterval = options.maxIntervalMs ?? 5000;
  let slept = options.firstReadAfterMs === undefined ? undefined : await timedSleep(options.firstReadAfterMs);
  for (;;) {
    const state = await read();
    if (done(state)) return state;
    if (slept) countProviderWait(slept.ms, slept.endedAt);
    heartbeat(options.describe ? options.describe(state) : state);
    slept = await timedSleep(interval);
    interval = options.holdInterval?.()
      ? (options.initialIntervalMs ?? 200)
      : Math.min(Math.round(interval * 1.5), maxInterval);
  }
}

/** Sleeps `ms`; how long it really slept and when it woke (performance.now()), for `countProviderWait`. */
async function timedSleep(ms: number): Promise<{ ms: number; endedAt: number }> {
  const started = performance.now();
  await sleep(ms);
  const endedAt = performance.now();
  return { ms: endedAt - started, endedAt };
}

const lastDetails = new WeakMap<Context, unknown>();

/** Heartbeats when running inside an activity; a no-op when called directly (plain unit tests). */
export function heartbeat(details?: unknown): void {
  heartbeatOf(activityContext(), details);
}

/**
 * `heartbeat`, bound to the activity running now: for a timer's callback, which need not run in the activity's
 * async context (a test's fake timers do not carry it).
 */
export function heartbeatOfThisActivity(): (details?: unknown) => void {
  const context = activityContext();
  return (details) => heartbeatOf(context, details);
}

function heartbeatOf(context: Context | undefined, details: unknown): void {
  if (!context) return;
  lastDetails.set(context, details);
  context.heartbeat(details);
}

/**
 * Heartbeats again with the details last given to `heartbeat`, so a wait that is not the activity's own loop (a
 * token from the AWS pacer) keeps the activity alive without erasing the progress a retry would resume from.
 */
export function keepAlive(): void {
  const context = activityContext();
  // Before this attempt's first heartbeat, the previous attempt's details: heartbeating none would erase what a
  // retry after this one resumes from.
  if (context)
    context.heartbeat(lastDetails.has(context) ? lastDetails.get(context) : context.info.heartbeatDetails);
}

/** `work`, or the activity's cancellation (it rejects with it) if that comes first; `work` outside an activity. */
export function untilCancelled<T>(work: Promise<T>): Promise<T> {
  const context = activityContext();
  return context === undefined ? work : Promise.race([work, context.cancelled]);
}

/** A wait on shared work heartbeats this often, well inside the steps' 15 s heartbeat timeout. */
export const KEEP_ALIVE_MS = 3_000;

/**
 * Awaits `work` while heartbeating (`keepAlive`) every `everyMs`, for waits that are not the activity's own
 * calls: a read coalesced into another activity's batch, a token from the shared AWS pacer. The timer runs in the
 * waiting activity's own context, so each waiter stays alive however long the shared call queues.
 */
export async function keepingAlive<T>(work: Promise<T>, everyMs: number): Promise<T> {
  const alive = setInterval(keepAlive, everyMs);
  try {
    return await work;
  } finally {
    clearInterval(alive);
  }
}

/** Cancellation-aware sleep inside an activity, a plain timer outside one. */
export function sleep(ms: number): Promise<void> {
  const context = activityContext();
  return context ? context.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Names the step an activity runs for (`<workflow id>/<activity id>`), the same on every retry of it; outside an
 * activity (a direct call in a test or a tool) a fresh name per call.
 */
export function currentStepRef(): string {
  const info = activityContext()?.info;
  const workflowId = info?.workflowExecution?.workflowId;
  if (info === undefined || workflowId === undefined) return `direct-${randomUUID()}`;
  return `${workflowId}/${info.activityId}`;
}

/**
 * The fence this step's activity makes: its step and the workflow run it belongs to (`run`, else the calling run).
 * Activity ids start at 1 in every run and a runbook's runs share one workflow id: without the run, an earlier
 * failover's fence would read as this one's, and this run's rollback would lift it.
 */
export function currentFenceRef(run = currentRunId()): string {
  const step = currentStepRef();
  return run === undefined ? step : `${step}@${run}`;
}

/**
 * When the running step's activity was first scheduled (epoch ms; the same on every retry), undefined outside an
 * activity: the AWS pacer serves the oldest step's calls first.
 */
export function currentStepScheduledAt(): number | undefined {
  return activityContext()?.info.scheduledTimestampMs;
}

/** The workflow run the running activity belongs to, undefined outside an activity. */
export function currentRunId(): string | undefined {
  return activityContext()?.info.workflowExecution?.runId;
}

/** Temporal's attempt number, 1 outside an activity. */
export function currentAttempt(): number {
  return activityContext()?.info.attempt ?? 1;
}

/** Whether the activity running this code (if any) was cancelled: timed out, aborted or its worker shutting down. */
export function activityCancelled(): boolean {
  return activityCancellation()?.aborted ?? false;
}

/** The running activity's cancellation signal (aborted, timed out), undefined outside an activity. */
export function activityCancellation(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
