import { execFile } from 'node:child_process';
import { PermanentFailure, permanentFailure } from '../failures';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs an argv (no shell) and resolves with its output; the drill's `stop-primary` for self-managed servers. */
export type RunCommand = (argv: string[], options: { timeoutMs: number }) => Promise<CommandResult>;

/** `execFile` with a timeout and captured output; a failure says which command, its exit and its stderr. */
export const runCommand: RunCommand = (argv, { timeoutMs }) => {
  const [file, ...args] = argv;
  if (file === undefined) {
    return Promise.reject(
      permanentFailure(
        PermanentFailure.ConfigurationMissing,
        "the stop command is empty; fix the injection's argv in the worker config (drill.injections)",
      ),
    );
  }
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const e = error as { killed?: boolean; code?: number | string; signal?: string | null };
        const how = e.killed
          ? `was killed after the ${timeoutMs} ms timeout`
          : e.code === 'ENOENT'
            ? `could not start (${file} not found on PATH)`
            : `exited with ${String(e.code ?? e.signal ?? 'an error')}`;
        reject(
          permanentFailure(
            PermanentFailure.InvalidState,
            `stop command \`${argv.join(' ')}\` ${how}; stderr: ${stderr.trim() || '(empty)'}; fix the command or stop the primary by hand and re-run the drill`,
          ),
        );
      },
    );
  });
};
