import { currentRunId, KEEP_ALIVE_MS, keepingAlive } from './poll-until';

/** Who may share a read in flight: one workflow run's activities, or every activity of the worker. */
export type SharedReadScope = 'run' | 'worker';

/**
 * Reads asked for alike while one is in flight share its call, and nothing is kept after it answers: a read asked
 * for later is sent again (a later step must see later state). A plan's checks and a pre-flight run at once, and
 * three of them asking Route 53 for the same record set spent three calls of the account's budget (10 a second) on
 * one answer. With scope `run` only one workflow run's activities share (outside an activity nothing is shared);
 * with `worker` every activity does (the fences of an evacuation asking EC2 for the same deny-all group). Each
 * activity waiting on a call another one sent heartbeats while it waits (`keepingAlive`): the call may queue for a
 * token behind the account's budget for longer than a heartbeat timeout.
 */
export function sharedWhileInFlight(
  scope: SharedReadScope,
  keepAliveMs: number = KEEP_ALIVE_MS,
): <T>(key: string, read: () => Promise<T>) => Promise<T> {
  const pending = new Map<string, Promise<unknown>>();
  return <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const runId = scope === 'run' ? currentRunId() : '';
    if (runId === undefined) return read();
    const scopedKey = `${runId} ${key}`;
    let call = pending.get(scopedKey) as Promise<T> | undefined;
    if (call === undefined) {
      call = read().finally(() => pending.delete(scopedKey));
      pending.set(scopedKey, call);
    }
    return keepingAlive(call, keepAliveMs);
  };
}
