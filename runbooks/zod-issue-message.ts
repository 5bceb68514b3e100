import type { z } from 'zod';
import { nearMiss, unknownFields } from '../common/unknown-fields';
import { formatPath, type RunbookIssue } from './runbook-validation-error';

/**
 * One zod issue as a problem an operator can act on: where it is and what is allowed there. zod's defaults
 * ("Invalid input", "Too small: expected array to have >=1 items") say what failed, not what to write.
 */
export function toIssue(issue: z.core.$ZodIssue): RunbookIssue {
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
  if (issue.code === 'unrecognized_keys')
    return issue.message.startsWith('unknown field') ? issue.message : unknownFields(issue.keys, undefined);
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  const got = 'input' in issue && issue.input !== undefined ? ` (got ${describe(issue.input)})` : '';
  switch (issue.code) {
    case 'invalid_union': {
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : undefined;
      if (options === undefined) return unknownFieldOfBranch(issue) ?? issue.message;
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
      if (value === undefined) return `required; allowed: ${options.join(', ')}`;
      return `unknown value${gotValue}${suggestion(value, options)}; allowed: ${options.join(', ')}`;
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

/**
 * A union of a short form and an object (`"ehr-db"` or `{ runbook, dependsOn }`) refused an object with a
 * misspelt field: the object form's unknown-field message, which names the field meant.
 */
function unknownFieldOfBranch(issue: z.core.$ZodIssueInvalidUnion): string | undefined {
  for (const branch of issue.errors)
    for (const inner of branch)
      if (inner.code === 'unrecognized_keys' && inner.path.length === 0) return inner.message;
  return undefined;
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

/** `a whole number`, `true or false`… for the type zod expected. */
export function article(expected: string): string {
  const names: Record<string, string> = {
    int: 'a whole number',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array (a list)',
    record: 'an object',
  };
  return names[expected] ?? expected;
}

/** A value as a message quotes it: `null`, `an array`, `string "…"` (cut at 40 characters), `number 12`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** `; did you mean "dns.switch"?` for a near miss (a typo, a swapped letter), else nothing. */
function suggestion(value: unknown, options: unknown[]): string {
  if (typeof value !== 'string') return '';
  const near = nearMiss(
    value,
    options.filter((option): option is string => typeof option === 'string'),
  );
  return near === undefined ? '' : `; did you mean "${near}"?`;
}
