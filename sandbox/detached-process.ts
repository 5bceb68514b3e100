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

/** Records `pid` for `name`, with the process's start time where /proc tells it (see `runningPid`). */
export function writePidFile(name: string, pid: number): void {
  mkdirSync(sandboxPaths.run, { recursive: true });
  writeFileSync(
    sandboxPaths.pidFile(name),
    `${[pid, startTimeOf(pid)].filter((part) => part !== undefined).join(' ')}\n`,
  );
}

/**
 * The pid recorded for `name` if that process is still alive, else undefined. A pid recorded with its start time
 * names another process once that time differs (the machine restarted and the pid was reused): stopping it, the
 * sandbox would kill a stranger.
 */
export function runningPid(name: string): number | undefined {
  const file = sandboxPaths.pidFile(name);
  if (!existsSync(file)) return undefined;
  const [pidText, recordedStart] = readFileSync(file, 'utf8').trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || !isAlive(pid)) return undefined;
  const start = startTimeOf(pid);
  return recordedStart !== undefined && start !== undefined && start !== recordedStart ? undefined : pid;
}

/** When a process started, in clock ticks since boot (/proc/<pid>/stat, field 22); undefined without /proc. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
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
