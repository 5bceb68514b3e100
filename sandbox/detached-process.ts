import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sandboxPaths } from './sandbox-paths';

/**
 * Long-running servers the sandbox owns: started detached (they outlive the CLI), output appended to
 * `.sandbox/logs/<name>.log`, pid in `.sandbox/run/<name>.pid`.
 */
export function startDetached(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): number {
  mkdirSync(sandboxPaths.logs, { recursive: true });
  mkdirSync(sandboxPaths.run, { recursive: true });
  const logFd = openSync(sandboxPaths.logFile(name), 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    if (child.pid === undefined)
      throw new Error(`could not start ${command}: see ${sandboxPaths.logFile(name)}`);
    child.unref();
    writePidFile(name, child.pid);
    return child.pid;
  } finally {
    closeSync(logFd);
  }
}

export function writePidFile(name: string, pid: number): void {
  mkdirSync(sandboxPaths.run, { recursive: true });
  writeFileSync(sandboxPaths.pidFile(name), `${pid}\n`);
}

/** The pid recorded for `name` if that process is still alive, else undefined. */
export function runningPid(name: string): number | undefined {
  const file = sandboxPaths.pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops the process group started for `name`: SIGTERM, then SIGKILL after `graceMs`. Removes the pid file. */
export async function stopDetached(name: string, graceMs = 10_000): Promise<void> {
  const pid = runningPid(name);
  if (pid !== undefined) {
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(sandboxPaths.pidFile(name), { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole group, so wrappers (npm, shell) do not leave their child behind.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
