/** Exit codes drctl promises to scripts. */
export const ExitCode = {
  Ok: 0,
  /** The failover (or the command's operation) ran and failed. */
  Failed: 1,
  /** Bad input: an invalid runbook, an unknown runbook, a missing or bad option. Nothing was changed. */
  BadInput: 2,
  /** The environment is not usable: Temporal unreachable, bad credentials, broken configuration. */
  Environment: 3,
  /** Refused for safety: a failover of this runbook is already running, or the operator said no. */
  Refused: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one clear message (never a stack trace), with a stable code and exit code. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
