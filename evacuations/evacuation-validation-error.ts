import type { RunbookIssue } from '../runbooks/runbook-validation-error';

/** Thrown by `defineEvacuation` and the evacuation loader: every problem with its path; nothing is started. */
export class EvacuationValidationError extends Error {
  readonly code = 'EvacuationInvalid';

  constructor(
    readonly evacuationLabel: string,
    readonly issues: RunbookIssue[],
  ) {
    super(
      `evacuation ${evacuationLabel} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${issue.path || '(root)'}: ${issue.message}`).join('\n'),
    );
    this.name = 'EvacuationValidationError';
  }
}
