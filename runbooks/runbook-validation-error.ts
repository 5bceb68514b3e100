/** One problem in a runbook: where it is (`steps[2].zone`) and what is wrong with it. */
export interface RunbookIssue {
  path: string;
  message: string;
}

/** Thrown by `defineRunbook` and the loaders: lists every problem at once, each with its path. */
export class RunbookValidationError extends Error {
  readonly code = 'RunbookInvalid';

  constructor(
    readonly runbookLabel: string,
    readonly issues: RunbookIssue[],
  ) {
    super(
      `runbook ${runbookLabel} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${issue.path || '(root)'}: ${issue.message}`).join('\n'),
    );
    this.name = 'RunbookValidationError';
  }
}

/** `['steps', 2, 'zone']` → `steps[2].zone` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
