import { z } from 'zod';
import { runbookSchema, type Runbook, type RunbookInput, type LeafStep } from './schema';
import { RunbookValidationError, formatPath, type RunbookIssue } from './runbook-validation-error';

/**
 * Validates a runbook and returns it as plain data with every default filled in. Throws a
 * `RunbookValidationError` listing every problem with its path; nothing is started on an invalid runbook.
 */
export function defineRunbook(input: RunbookInput): Runbook {
  const label =
    typeof (input as { id?: unknown })?.id === 'string' ? (input as { id: string }).id : '(no id)';
  const parsed = runbookSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    throw new RunbookValidationError(label, parsed.error.issues.map(toIssue));
  }
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new RunbookValidationError(label, problems);
  return parsed.data;
}

/**
 * One zod issue as a problem an operator can act on: where it is and what is allowed there. zod's defaults
 * ("Invalid input", "Too small: expected array to have >=1 items") say what failed, not what to write.
 */
function toIssue(issue: z.core.$ZodIssue): RunbookIssue {
  const path = formatPath(issue.path);
  return { path, message: issueMessage(issue, path) };
}

/** zod's own wording; a message the schema gave (`must be a duration such as …`) is kept as it is. */
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Expected)\b/;

/** Fields holding durations: a wrong type there is answered with the duration forms. */
const DURATION_FIELDS = new Set([
  'rto',
  'rpo',
  'timeout',
  'duration',
  'maxLag',
  'maxAge',
  'minRetention',
  'initialInterval',
  'maximumInterval',
]);

function issueMessage(issue: z.core.$ZodIssue, path: string): string {
  if (issue.code !== 'unrecognized_keys' && !ZOD_DEFAULT.test(issue.message)) return issue.message;
  const got = 'input' in issue && issue.input !== undefined ? ` (got ${describe(issue.input)})` : '';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_union': {
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : undefined;
      if (options === undefined) return issue.message;
      // The issue's input is the object holding the discriminator; name the value that did not match.
      const field = issue.path[issue.path.length - 1];
      const value =
        issue.input !== null && typeof issue.input === 'object' && field !== undefined
          ? (issue.input as Record<PropertyKey, unknown>)[field]
          : issue.input;
      const gotValue = value === undefined ? '' : ` (got ${describe(value)})`;
      if (value === 'parallel' && /^steps\[\d+\]\.steps\[\d+\]\.kind$/.test(path)) {
        return `parallel groups cannot nest; allowed inside a group: ${options.join(', ')}`;
      }
      return value === undefined
        ? `required; allowed: ${options.join(', ')}`
        : `unknown value${gotValue}; allowed: ${options.join(', ')}`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      if (path === '') return `a runbook must be an object with id, title, owner, objectives and steps${got}`;
      if (issue.expected === 'string' && DURATION_FIELDS.has(String(issue.path[issue.path.length - 1]))) {
        return `must be a duration string such as 250ms, 30s, 5m or 1h${got}`;
      }
      return `must be ${article(issue.expected)}${got}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}${got}`;
    case 'too_small':
      return tooSmall(issue, path, got);
    case 'too_big':
      return issue.origin === 'array'
        ? `may list at most ${issue.maximum} items`
        : issue.origin === 'string'
          ? `may be at most ${issue.maximum} characters long${got}`
          : `must be at most ${issue.maximum}${got}`;
    case 'invalid_format':
      if (issue.format === 'url') return `must be a URL such as https://app.example.com/health${got}`;
      if (issue.format === 'regex' && 'pattern' in issue) return `must match ${issue.pattern}${got}`;
      return `must be a valid ${issue.format}${got}`;
    case 'invalid_key': {
      const key = issue.path[issue.path.length - 1];
      const inner = issue.issues[0];
      const why = inner ? issueMessage(inner as z.core.$ZodIssue, '') : 'is not allowed';
      return inner?.code === 'invalid_format' && inner.format === 'regex'
        ? `name "${String(key)}" must be lower-case letters, digits and dashes (e.g. main-db)`
        : `name "${String(key)}" ${why}`;
    }
    default:
      return issue.message;
  }
}

function tooSmall(issue: z.core.$ZodIssueTooSmall, path: string, got: string): string {
  const minimum = Number(issue.minimum);
  if (issue.origin === 'array') {
    if (/^steps\[\d+\]\.steps$/.test(path)) {
      return `a parallel group needs at least ${minimum} steps; run a single step on its own instead`;
    }
    const what = path.endsWith('records') ? 'record' : path.endsWith('flags') ? 'flag' : 'item';
    return `must list at least ${minimum} ${what}${minimum === 1 ? '' : 's'}`;
  }
  if (issue.origin === 'string') {
    return minimum <= 1 ? `must not be empty` : `must be at least ${minimum} characters long${got}`;
  }
  return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${minimum}${got}`;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    int: 'a whole number',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array (a list)',
  };
  return names[expected] ?? expected;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Every leaf step with its path, parallel groups flattened in order. */
export function leafSteps(runbook: Runbook): Array<{ step: LeafStep; path: string }> {
  return runbook.steps.flatMap((step, index) =>
    step.kind === 'parallel'
      ? step.steps.map((inner, innerIndex) => ({ step: inner, path: `steps[${index}].steps[${innerIndex}]` }))
      : [{ step, path: `steps[${index}]` }],
  );
}

/** Checks that span fields: unique ids, references to declared databases, DNS only after a promotion. */
function crossCheck(runbook: Runbook): RunbookIssue[] {
  const issues: RunbookIssue[] = [];
  const seenIds = new Map<string, string>();
  const databases = runbook.targets.databases;
  const promotedBefore = new Set<string>();

  runbook.steps.forEach((step, index) => {
    const ids = step.kind === 'parallel' ? [step.id, ...step.steps.map((s) => s.id)] : [step.id];
    for (const id of ids) {
      const earlier = seenIds.get(id);
      if (earlier !== undefined)
        issues.push({ path: `steps[${index}].id`, message: `"${id}" is already used by ${earlier}` });
      else seenIds.set(id, `steps[${index}]`);
    }
    const group =
      step.kind === 'parallel'
        ? step.steps.map((s, i) => ({ s, p: `steps[${index}].steps[${i}]` }))
        : [{ s: step, p: `steps[${index}]` }];
    for (const { s, p } of group) {
      if ((s.kind === 'database.fence' || s.kind === 'database.promote') && !(s.database in databases)) {
        issues.push({ path: `${p}.database`, message: unknownDatabase(s.database, databases) });
      }
      if (s.kind === 'dns.switch') {
        s.records.forEach((record, r) => {
          if (record.pointTo === undefined) return;
          const where = `${p}.records[${r}].pointTo`;
          if (!(record.pointTo.database in databases)) {
            issues.push({
              path: `${where}.database`,
              message: unknownDatabase(record.pointTo.database, databases),
            });
          } else if (record.pointTo.member !== 'replica' || !promotedBefore.has(record.pointTo.database)) {
            issues.push({
              path: where,
              message:
                'DNS may only point at a database member this runbook has confirmed writable: ' +
                `add a database.promote step for "${record.pointTo.database}" before this step and point at its replica`,
            });
          }
        });
      }
    }
    // Promotions in a parallel group do not count for DNS in the same group: they may not have finished.
    for (const { s } of group) if (s.kind === 'database.promote') promotedBefore.add(s.database);
  });
  return issues;
}

function unknownDatabase(name: string, databases: Record<string, unknown>): string {
  const known = Object.keys(databases);
  return `no database "${name}" in targets.databases (declared: ${known.length > 0 ? known.join(', ') : 'none'})`;
}
