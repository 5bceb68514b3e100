import { execFile } from 'node:child_process';
import { SandboxError } from './sandbox-error';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion; on failure the error carries the command line and its stderr. */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new SandboxError(
              'CommandFailed',
              `\`${[command, ...args].join(' ')}\` failed (${error.message.split('\n')[0]}): ${String(stderr).trim() || String(stdout).trim()}`,
            ),
          );
        } else {
          resolvePromise({ stdout: String(stdout), stderr: String(stderr) });
        }
      },
    );
  });
}

/**
 * Runs a PostgreSQL server tool as the `postgres` OS user when we are root (initdb and postgres refuse root),
 * or directly otherwise.
 */
export function runAsPostgresUser(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot
    ? runCommand('runuser', ['-u', 'postgres', '--', command, ...args], { ...options, cwd: '/' })
    : runCommand(command, args, options);
}
