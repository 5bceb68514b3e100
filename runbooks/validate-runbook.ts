import { crossCheck, crossCheckSteps, type CheckedLeaf, type CheckedStep } from './cross-check';
import { inlineSecrets } from './inline-secrets';
import { RunbookValidationError, type RunbookIssue } from './runbook-validation-error';
import {
  databaseTargetSchema,
  leafStepSchema,
  runbookSchema,
  stepSchema,
  type Runbook,
  type RunbookInput,
} from './schema';
import { NAME_PATTERN } from './schema-parts';
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
    // The cross-checks run too, over the steps the schema passed: every problem in one report, not a class a pass.
    const issues = [...parsed.error.issues.map(toIssue), ...crossCheckReadable(input), ...secrets];
    throw new RunbookValidationError(label, inStepOrder(issues));
  }
  const problems = [...crossCheck(parsed.data), ...secrets];
  if (problems.length > 0) throw new RunbookValidationError(label, problems);
  return parsed.data;
}

/**
 * The cross-checks of a runbook the schema refused, over what of it the schema passes on its own: each step
 * (each leaf of a group), and each database target. A step the schema refused keeps only its id in the checks.
 */
function crossCheckReadable(input: unknown): RunbookIssue[] {
  if (!isRecord(input) || !Array.isArray(input.steps)) return [];
  const readable = readableTargets(input.targets);
  // The kinds' checks read the targets; the other fields are there as far as the schema passes them.
  const fields = Object.entries(runbookSchema.shape).flatMap(([field, schema]) => {
    if (field === 'targets' || field === 'steps') return [];
    const parsed = schema.safeParse(input[field]);
    return parsed.success ? [[field, parsed.data]] : [];
  });
  const runbook = {
    ...Object.fromEntries(fields),
    targets: readable.targets,
    steps: [],
  } as unknown as Runbook;
  return crossCheckSteps(runbook, input.steps.map(readableStep), readable.unread);
}

function readableStep(raw: unknown, index: number): CheckedStep {
  const path = `steps[${index}]`;
  const parsed = stepSchema.safeParse(raw);
  if (parsed.success)
    return parsed.data.kind === 'parallel'
      ? {
          path,
          groupId: parsed.data.id,
          leaves: parsed.data.steps.map((step, inner) => ({ path: `${path}.steps[${inner}]`, step })),
        }
      : { path, leaves: [{ path, step: parsed.data }] };
  const { kind, id, steps } = (raw ?? {}) as { kind?: unknown; id?: unknown; steps?: unknown };
  if (kind !== 'parallel' || !Array.isArray(steps)) return { path, leaves: [{ path, unread: raw }] };
  return {
    path,
    groupId: id,
    leaves: steps.map((inner: unknown, position): CheckedLeaf => {
      const leaf = leafStepSchema.safeParse(inner);
      const at = `${path}.steps[${position}]`;
      return leaf.success ? { path: at, step: leaf.data } : { path: at, unread: inner };
    }),
  };
}

/**
 * The database targets the schema passes one by one, and the names of those it refuses (`'all'` when
 * `targets.databases` is no object): a step naming one of those is not checked against it.
 */
function readableTargets(raw: unknown): { targets: Runbook['targets']; unread: Set<string> | 'all' } {
  const whole = runbookSchema.shape.targets.safeParse(raw);
  if (whole.success) return { targets: whole.data, unread: new Set() };
  const databases = isRecord(raw) ? (raw.databases ?? {}) : undefined;
  if (!isRecord(databases)) return { targets: { databases: {} }, unread: 'all' };
  const targets: Runbook['targets'] = { databases: {} };
  const unread = new Set<string>();
  for (const [name, target] of Object.entries(databases)) {
    const parsed = databaseTargetSchema.safeParse(target);
    if (parsed.success && NAME_PATTERN.test(name)) targets.databases[name] = parsed.data;
    else unread.add(name);
  }
  return { targets, unread };
}

/** The issues of each step together, in the runbook's order; those of the other fields first, as they were. */
function inStepOrder(issues: RunbookIssue[]): RunbookIssue[] {
  const step = (issue: RunbookIssue) => Number(/^steps\[(\d+)\]/.exec(issue.path)?.[1] ?? -1);
  return [...issues].sort((a, b) => step(a) - step(b));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
