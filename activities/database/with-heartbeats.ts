import { heartbeatOfThisActivity } from '../poll-until';

/**
 * Heartbeats every `everyMs` while one long provider call is outstanding (e.g. a promotion waiting for the end of
 * recovery), so a call that blocks longer than the activity's heartbeat timeout is not mistaken for a dead worker.
 */
export async function withHeartbeats<T>(
  work: () => Promise<T>,
  details: unknown,
  everyMs = 5000,
): Promise<T> {
  const heartbeat = heartbeatOfThisActivity();
  const timer = setInterval(() => heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
