import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxError } from './sandbox-error';

/**
 * Polls `check` until it returns true or `timeoutMs` passes, then throws a NotReady error whose message says
 * where to look (`hint`). The last error thrown by `check` is appended, since it usually names the cause.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; hint: string; stillAlive?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (options.stillAlive && !options.stillAlive()) {
      throw new SandboxError(
        'NotReady',
        `${what} exited while starting. ${options.hint}${lastError ? ` (last check: ${lastError})` : ''}`,
      );
    }
    if (Date.now() > deadline) {
      throw new SandboxError(
        'NotReady',
        `${what} was not ready after ${Math.round(options.timeoutMs / 1000)} s. ${options.hint}${lastError ? ` (last check: ${lastError})` : ''}`,
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}
