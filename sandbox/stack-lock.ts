import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './detached-process';
import { SandboxError } from './sandbox-error';
import { sandboxPaths } from './sandbox-paths';

/**
 * Serialises stack changes between processes (a jest global setup and a CLI `up` at once would otherwise
 * start two servers on one port). A lock left by a dead process is taken over.
 */
export async function withStackLock<T>(work: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  mkdirSync(sandboxPaths.run, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(sandboxPaths.lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder();
      if (holder === undefined || !isAlive(holder)) {
        rmSync(sandboxPaths.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new SandboxError(
          'Busy',
          `another sandbox command (pid ${holder}) holds ${sandboxPaths.lockFile}: wait for it, or stop it`,
        );
      }
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    if (lockHolder() === process.pid) rmSync(sandboxPaths.lockFile, { force: true });
  }
}

function lockHolder(): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(sandboxPaths.lockFile, 'utf8'), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
