import { currentRunId } from './poll-until';

/**
 * Reads that one workflow run's activities make alike, at the same time, share one call while it is in flight. A
 * plan's checks and a pre-flight run at once, and three of them asking Route 53 for the same record set spend three
 * calls of the account's budget (10 a second) on one answer. Only while in flight: a read asked for after the call
 * answered is sent again (a later step must see later state), and different runs never share a call.
 */
export function sharedWhileInFlight(): <T>(key: string, read: () => Promise<T>) => Promise<T> {
  const pending = new Map<string, Promise<unknown>>();
  return <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const runId = currentRunId();
    if (runId === undefined) return read();
    const runKey = `${runId} ${key}`;
    const known = pending.get(runKey);
    if (known !== undefined) return known as Promise<T>;
    const call = read().finally(() => pending.delete(runKey));
    pending.set(runKey, call);
    return call;
  };
}
