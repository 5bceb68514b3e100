import { activityCancelled, currentRunId, KEEP_ALIVE_MS, keepingAlive, untilCancelled } from './poll-until';

/** Who may share a read in flight: one workflow run's activities, or every activity of the worker. */
export type SharedReadScope = 'run' | 'worker';

/**
 * How long after a call was sent a read alike may still join it. A read asked later sends its own call: a call
 * that old is queued behind a short budget or hung, and joining it would tie the reader to it.
 */
export const JOIN_WITHIN_MS = 2_000;

/**
 * Reads asked for alike while one is in flight share its call, and nothing is kept after it answers: a read asked
 * for later is sent again (a later step must see later state). A plan's checks and a pre-flight run at once, and
 * three of them asking Route 53 for the same record set spent three calls of the account's budget (10 a second) on
 * one answer. With scope `run` only one workflow run's activities share (outside an activity nothing is shared);
 * with `worker` every activity does (the fences of an evacuation asking EC2 for the same deny-all group).
 *
 * A reader joins only a call sent within `joinWithinMs` (`JOIN_WITHIN_MS`); while it waits it heartbeats
 * (`keepingAlive`: the call may queue for a token behind the account's budget) and ends if its own activity is
 * cancelled. A call that failed because its sender's activity was cancelled (or timed out) is asked again, once
 * for all the readers still waiting; any other failure is theirs too.
 */
export function sharedWhileInFlight(
  scope: SharedReadScope,
  {
    keepAliveMs = KEEP_ALIVE_MS,
    joinWithinMs = JOIN_WITHIN_MS,
  }: { keepAliveMs?: number; joinWithinMs?: number } = {},
): <T>(key: string, read: () => Promise<T>) => Promise<T> {
  const pending = new Map<string, { call: Promise<unknown>; sentAt: number; senderCancelled: boolean }>();
  const shared = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const runId = scope === 'run' ? currentRunId() : '';
    if (runId === undefined) return read();
    const scopedKey = `${runId} ${key}`;
    const known = pending.get(scopedKey);
    if (known !== undefined && Date.now() - known.sentAt <= joinWithinMs) {
      // The reaction runs in this reader's activity context: `activityCancelled()` is this reader's.
      const joined = (known.call as Promise<T>).catch((error: unknown) =>
        known.senderCancelled && !activityCancelled() ? shared(key, read) : Promise.reject(error),
      );
      return keepingAlive(untilCancelled(joined), keepAliveMs);
    }
    const entry = { call: Promise.resolve() as Promise<unknown>, sentAt: Date.now(), senderCancelled: false };
    const call: Promise<T> = read()
      .catch((error: unknown) => {
        entry.senderCancelled = activityCancelled();
        throw error;
      })
      .finally(() => {
        if (pending.get(scopedKey) === entry) pending.delete(scopedKey);
      });
    entry.call = call;
    pending.set(scopedKey, entry);
    return keepingAlive(call, keepAliveMs);
  };
  return shared;
}
