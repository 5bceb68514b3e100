import type { RunbookIssue } from '../runbooks/runbook-validation-error';
import type { Evacuation } from './schema';

/** Thrown by `defineEvacuation` and the evacuation loader: every problem with its path; nothing is started. */
export class EvacuationValidationError extends Error {
  readonly code = 'EvacuationInvalid';

  constructor(
    readonly evacuationLabel: string,
    readonly issues: RunbookIssue[],
    /** The waves as written, where they could be read (`wavesAsWritten`): the loader looks their runbooks up. */
    readonly written?: Evacuation,
  ) {
    super(
      `evacuation ${evacuationLabel} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${issue.path || '(root)'}: ${issue.message}`).join('\n'),
    );
    this.name = 'EvacuationValidationError';
  }
}
