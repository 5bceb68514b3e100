/** Thrown when a runbook has no automatic way back. */
export class FailbackUnsupportedError extends Error {
  readonly code = 'FailbackUnsupported';
  constructor(message: string) {
    super(message);
    this.name = 'FailbackUnsupportedError';
  }
}
