import { untilCancelled, currentRunId, KEEP_ALIVE_MS, keepingAlive } from './poll-until';

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
 * A reader joins only a call sent within `joinWithinMs` (`JOIN_WITHIN_MS`); while it waits it heartbeats (`keepingAlive`: the
 * call may queue for a token behind the account's budget) and ends if its own activity is cancelled; and if the
 * shared call fails, it sends its own (the failure may be the sender's: its activity cancelled or timed out).
 */
export function sharedWhileInFlight(
  scope: SharedReadScope,
  {
    keepAliveMs = KEEP_ALIVE_MS,
    joinWithinMs = JOIN_WITHIN_MS,
  }: { keepAliveMs?: number; joinWithinMs?: number } = {},
): <T>(key: string, read: () => Promise<T>) => Promise<T> {
  const pending = new Map<string, { call: Promise<unknown>; sentAt: number }>();
  return <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const runId = scope === 'run' ? currentRunId() : '';
    if (runId === undefined) return read();
    const scopedKey = `${runId} ${key}`;
    const known = pending.get(scopedKey);
    if (known !== undefined && Date.now() - known.sentAt <= joinWithinMs) {
      const joined = (known.call as Promise<T>).catch(() => read());
      return keepingAlive(untilCancelled(joined), keepAliveMs);
    }
    const call: Promise<T> = read().finally(() => {
      if (pending.get(scopedKey)?.call === call) pending.delete(scopedKey);
    });
    pending.set(scopedKey, { call, sentAt: Date.now() });
    return keepingAlive(call, keepAliveMs);
  };
}
