import type { Runbook, RunbookInput } from './schema';
import { runbookMemo } from './validation-memo';

/**
 * Validates a runbook and returns it as plain data with every default filled in. Throws a
 * `RunbookValidationError` listing every problem with its path; nothing is started on an invalid runbook.
 * Inline secrets are problems too; see `runbookWarnings` for what validates but endangers the objectives.
 *
 * Validation is a pure function of the runbook's data and drctl's build; the CLI keeps its answers in a memo
 * (`validation-memo.ts`) so that a command on an unchanged runbook does not load the schema and every step kind
 * again. Without a memo (the worker, tests, drctl run from its sources) every call validates.
 */
export function defineRunbook(input: RunbookInput): Runbook {
  const memo = runbookMemo();
  const remembered = memo?.recall(input);
  if (remembered !== undefined) return remembered;
  // Loaded on first use: the schema pulls in every step kind.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous: runbook modules call this at load.
  const { validateRunbook } = require('./validate-runbook') as typeof import('./validate-runbook');
  const runbook = validateRunbook(input);
  memo?.remember(input, runbook);
  return runbook;
}
