import { canonicalJson } from './canonical-json';
import { STATEMENT_ACTIONS, type StatementAction } from './permissions';

/** What a statement's nonce must be: a verified statement's never is anything else. */
export const STATEMENT_NONCE = /^[0-9a-f]{32,128}$/;

/**
 * What an operator signs: one action on one run, with why and when. The worker's validators check every
 * field against the run before anything enters history; the statement stays in the run's operator actions
 * so an auditor can verify it again years later.
 */
export interface OperatorStatement {
  action: StatementAction;
  /** Who the signer says they are; must be the owner of the signing key in the access policy. */
  operator: string;
  /** The workflow id the action is for (a schedule id for schedule changes). */
  runId: string;
  /** The gate or paused step, for approve/retry/skip/abort of a step; the operation for `schedule`. */
  stepId?: string;
  runbookId: string;
  /** sha256 of the runbook the operator planned against (see runbookSha256). */
  runbookHash: string;
  reason: string;
  /** When it was signed (ISO 8601, the signer's clock); the worker refuses stale statements. */
  at: string;
  /** Random, unique per statement: the worker refuses a nonce it has already accepted in the run. */
  nonce: string;
  /** Signed with a break-glass key, on purpose (the CLI's --break-glass). Loudly recorded. */
  breakGlass?: boolean;
  /** Action-specific parameters that must not be changed after signing (e.g. a drill's injection name). */
  detail?: Record<string, string>;
}

export const STATEMENT_FORMAT = 'drctl-operator-statement/1';

/**
 * The exact text that is signed: a format line, then one `field=value` line per field in a fixed order, each
 * value JSON-encoded (so a reason cannot smuggle in a line of its own) and absent ones written as null.
 * Readable by an auditor, and the same bytes on every machine.
 */
export function canonicalStatement(statement: OperatorStatement): string {
  const fields: Array<[string, unknown]> = [
    ['action', statement.action],
    ['operator', statement.operator],
    ['runId', statement.runId],
    ['stepId', statement.stepId ?? null],
    ['runbookId', statement.runbookId],
    ['runbookHash', statement.runbookHash],
    ['reason', statement.reason],
    ['at', statement.at],
    ['nonce', statement.nonce],
    ['breakGlass', statement.breakGlass === true],
    ['detail', statement.detail ?? {}],
  ];
  return [STATEMENT_FORMAT, ...fields.map(([name, value]) => `${name}=${canonicalJson(value)}`)].join('\n');
}

/** Says what is wrong with something that claims to be a statement, or undefined when its shape is right. */
export function statementShapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'the statement is missing';
  const s = value as Record<string, unknown>;
  if (!(STATEMENT_ACTIONS as readonly string[]).includes(s.action as string))
    return `statement.action must be one of ${STATEMENT_ACTIONS.join(', ')} (got ${JSON.stringify(s.action)})`;
  for (const field of ['operator', 'runId', 'runbookId', 'runbookHash', 'reason', 'at', 'nonce'] as const) {
    if (typeof s[field] !== 'string') return `statement.${field} must be a string`;
  }
  if (s.stepId !== undefined && typeof s.stepId !== 'string') return 'statement.stepId must be a string';
  if (s.breakGlass !== undefined && typeof s.breakGlass !== 'boolean')
    return 'statement.breakGlass must be true or false';
  if (s.detail !== undefined) {
    if (typeof s.detail !== 'object' || s.detail === null || Array.isArray(s.detail))
      return 'statement.detail must be an object of strings';
    for (const [key, item] of Object.entries(s.detail))
      if (typeof item !== 'string') return `statement.detail.${key} must be a string`;
  }
  if (!STATEMENT_NONCE.test(s.nonce as string)) return 'statement.nonce must be 32 to 128 hex digits';
  return undefined;
}
