import { crossCheck } from './cross-check';
import { inlineSecrets } from './inline-secrets';
import { RunbookValidationError } from './runbook-validation-error';
import { runbookSchema, type Runbook, type RunbookInput } from './schema';
import { unknownFieldMessage } from '../common/unknown-fields';
import { toIssue } from './zod-issue-message';

/**
 * Validates a runbook and returns it as plain data with every default filled in. Throws a
 * `RunbookValidationError` listing every problem with its path; nothing is started on an invalid runbook.
 * Inline secrets are problems too; see `runbookWarnings` for what validates but endangers the objectives.
 * Loads the schema and every step kind: `defineRunbook` is the entry point, and loads this module only when its
 * memo (the CLI's) does not already hold the answer.
 */
export function validateRunbook(input: RunbookInput): Runbook {
  const label =
    typeof (input as { id?: unknown })?.id === 'string' ? (input as { id: string }).id : '(no id)';
  const secrets = inlineSecrets(input);
  const parsed = runbookSchema.safeParse(input, { reportInput: true, error: unknownFieldMessage });
  if (!parsed.success) {
    throw new RunbookValidationError(label, [...parsed.error.issues.map(toIssue), ...secrets]);
  }
  const problems = [...crossCheck(parsed.data), ...secrets];
  if (problems.length > 0) throw new RunbookValidationError(label, problems);
  return parsed.data;
}
