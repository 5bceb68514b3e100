import type { AccessPolicy, LoadedPolicy } from './access-policy';
import { describeRule, type ApprovalRule } from './approval-rule';
import { permissionFor, type Permission, type StatementAction } from './permissions';
import { runbookMatches } from './runbook-glob';
import { shortKey, signatureIsValid, type SignedStatement } from './signature';
import { statementShapeProblem } from './statement';

/** How long a signed statement is accepted after it was signed, and how far ahead a signer's clock may be. */
export const STATEMENT_MAX_AGE_MS = 5 * 60_000;
export const STATEMENT_MAX_SKEW_MS = 60_000;

/** An operator action whose signature, key, claims and permission were all checked. */
export interface VerifiedAction {
  /** The verified key owner: an operator name, or `break-glass:<id>`. */
  owner: string;
  breakGlass: boolean;
  /** For a break-glass key: who holds it, from the policy. */
  holder?: string;
  signed: SignedStatement;
}

/** What a statement must say to be accepted for one action on one run. */
export interface Expectation {
  /** The actions accepted here (e.g. `['retry', 'skip', 'abort']` for a decision). */
  actions: readonly StatementAction[];
  runId: string;
  /** When set, the statement's stepId must equal it. */
  stepId?: string;
  runbookId: string;
  runbookHash: string;
  /** Workflow time, ms since the epoch. */
  now: number;
  /** `false` skips the age check (a schedule's standing statement, a child run's parent statement). */
  checkFreshness?: boolean;
  /** Nonces already accepted in this run. */
  usedNonces?: ReadonlySet<string>;
  /**
   * When this run started (ms since the epoch). Runs of one runbook share a workflow id (its lock), so a statement
   * signed before this run began was for an earlier run: refused, within the clock skew allowed.
   */
  runStartedAt?: number;
  /**
   * When set, the statement's `detail.run` must equal it: Temporal's id of the one run it is for. Runs of one
   * runbook share a workflow id, so without it a statement taken from one run (its progress, its history) could be
   * sent to the next run under the same id within the clock skew allowed above: an approval replayed as a second
   * person's.
   */
  temporalRunId?: string;
}

/** A refusal: `code` is stable for scripts and tests, the message says what was wrong and what to do. */
export class AuthorizationError extends Error {
  constructor(
    readonly code: AuthorizationRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'AuthorizationError';
  }
}

export type AuthorizationRefusal =
  | 'Unsigned'
  | 'BadSignature'
  | 'UnknownKey'
  | 'ForgedName'
  | 'BreakGlassMisuse'
  | 'WrongRun'
  | 'WrongAction'
  | 'RunbookMismatch'
  | 'Stale'
  | 'ReplayedNonce'
  | 'NotPermitted'
  | 'ReasonRequired'
  | 'ApprovalRule';

/**
 * The access policy applied to signed operator actions: verifies a statement for an expected action, says
 * whether a verified owner may do something to a runbook, and applies approval rules (N of M from a group,
 * not the initiator) by verified key owner. Pure: safe in workflow code and validators.
 */
export class OperatorAuthority {
  readonly policy: AccessPolicy;
  readonly policySha256: string;
  private readonly owners = new Map<string, { owner: string; breakGlass: boolean; holder?: string }>();

  constructor(loaded: Pick<LoadedPolicy, 'policy' | 'sha256'>) {
    this.policy = loaded.policy;
    this.policySha256 = loaded.sha256;
    for (const [name, operator] of Object.entries(loaded.policy.operators))
      for (const key of operator.keys) this.owners.set(key, { owner: name, breakGlass: false });
    for (const [id, entry] of Object.entries(loaded.policy.breakGlass))
      this.owners.set(entry.key, { owner: `break-glass:${id}`, breakGlass: true, holder: entry.holder });
  }

  /** Checks `signed` against the expectation; returns the verified owner or throws AuthorizationError. */
  verify(signed: unknown, expected: Expectation): VerifiedAction {
    if (typeof signed !== 'object' || signed === null || !('signature' in signed) || !('statement' in signed))
      throw refuse(
        'Unsigned',
        'unsigned: every operator action must be signed with your key (drctl signs it; create a key with `drctl keys init`)',
      );
    const candidate = signed as SignedStatement;
    const shape = statementShapeProblem(candidate.statement);
    if (shape) throw refuse('Unsigned', `malformed statement: ${shape}`);
    const statement = candidate.statement;
    if (!signatureIsValid(candidate))
      throw refuse(
        'BadSignature',
        `bad signature: the signature does not match the statement and key ${shortKey(String(candidate.publicKey))} (changed after signing, or signed with another key)`,
      );
    const known = this.owners.get(candidate.publicKey);
    if (!known)
      throw refuse(
        'UnknownKey',
        `unknown key: ${shortKey(candidate.publicKey)} is not in the access policy (sha256 ${this.policySha256.slice(0, 12)}…); add it with \`drctl keys init\`'s snippet and reload the worker's policy`,
      );
    if (known.breakGlass !== (statement.breakGlass === true))
      throw refuse(
        'BreakGlassMisuse',
        known.breakGlass
          ? `${known.owner} is a break-glass key: use it only in an emergency, on purpose, with --break-glass`
          : `--break-glass was given but ${known.owner}'s key is not a break-glass key in the access policy`,
      );
    if (!known.breakGlass && statement.operator !== known.owner)
      throw refuse(
        'ForgedName',
        `forged name: the statement says "${statement.operator}" but is signed by ${known.owner}'s key; the verified key owner is who acts`,
      );
    if (!expected.actions.includes(statement.action))
      throw refuse(
        'WrongAction',
        `the statement is for "${statement.action}", expected ${expected.actions.join(' or ')}`,
      );
    if (statement.runId !== expected.runId)
      throw refuse(
        'WrongRun',
        `the statement is for run ${statement.runId}, not ${expected.runId}: sign for this run`,
      );
    if (expected.temporalRunId !== undefined && statement.detail?.run !== expected.temporalRunId)
      throw refuse(
        'WrongRun',
        statement.detail?.run === undefined
          ? `the statement names no run (detail.run): it was signed by a drctl from before statements named their run, or taken from elsewhere; sign it again with this drctl for run ${expected.temporalRunId} of ${expected.runId}`
          : `the statement is for run ${statement.detail.run} of ${expected.runId}, not this one (${expected.temporalRunId}): it was signed for another run under the same id; run the command again for this run`,
      );
    if (expected.stepId !== undefined && statement.stepId !== expected.stepId)
      throw refuse(
        'WrongRun',
        `the statement is for step ${statement.stepId ?? '(none)'}, not ${expected.stepId}`,
      );
    if (statement.runbookId !== expected.runbookId || statement.runbookHash !== expected.runbookHash)
      throw refuse(
        'RunbookMismatch',
        `the statement names runbook ${statement.runbookId} sha256 ${statement.runbookHash.slice(0, 12)}…, but this run is ${expected.runbookId} sha256 ${expected.runbookHash.slice(0, 12)}…`,
      );
    if (expected.checkFreshness !== false) {
      const at = Date.parse(statement.at);
      if (Number.isNaN(at)) throw refuse('Stale', `statement.at is not a time: ${statement.at}`);
      const age = expected.now - at;
      if (age > STATEMENT_MAX_AGE_MS)
        throw refuse(
          'Stale',
          `stale statement: signed ${Math.round(age / 1000)} s ago (at ${statement.at}) by the worker's clock; statements are accepted for ${STATEMENT_MAX_AGE_MS / 60_000} minutes, so run the command again. If it was signed just now, the signer's clock is about ${Math.round(age / 1000)} s behind the worker's: correct it (NTP), or every statement it signs will be refused`,
        );
      if (-age > STATEMENT_MAX_SKEW_MS)
        throw refuse(
          'Stale',
          `statement from the future: signed at ${statement.at}, ${Math.round(-age / 1000)} s ahead of the worker; check the signer's clock`,
        );
      if (expected.runStartedAt !== undefined && at < expected.runStartedAt - STATEMENT_MAX_SKEW_MS)
        throw refuse(
          'Stale',
          `signed at ${statement.at}, before this run of ${expected.runId} started (${new Date(expected.runStartedAt).toISOString()}): it was for an earlier run under the same id; run the command again for this run. If it was signed just now, the signer's clock is behind the worker's: correct it (NTP)`,
        );
    }
    if (expected.usedNonces?.has(statement.nonce))
      throw refuse(
        'ReplayedNonce',
        `replayed statement: nonce ${statement.nonce.slice(0, 12)}… was already used in this run; each action is signed anew`,
      );
    if (!statement.reason.trim())
      throw refuse('ReasonRequired', 'a reason is required: it is recorded for the audit trail');
    const permission = permissionFor(statement.action);
    if (!this.allows(known.owner, permission, statement.runbookId))
      throw refuse(
        'NotPermitted',
        `not permitted: ${known.owner} may not ${permission} runbook ${statement.runbookId} under the access policy (sha256 ${this.policySha256.slice(0, 12)}…)`,
      );
    return {
      owner: known.owner,
      breakGlass: known.breakGlass,
      ...(known.holder === undefined ? {} : { holder: known.holder }),
      signed: candidate,
    };
  }

  /** Whether `owner` (an operator, or `break-glass:<id>`) holds `permission` on `runbookId`. */
  allows(owner: string, permission: Permission, runbookId: string): boolean {
    if (owner.startsWith('break-glass:')) {
      const entry = this.policy.breakGlass[owner.slice('break-glass:'.length)];
      return (
        entry !== undefined &&
        entry.allow.includes(permission) &&
        entry.runbooks.some((pattern) => runbookMatches(pattern, runbookId))
      );
    }
    return this.policy.permissions.some(
      (rule) =>
        rule.allow.includes(permission) &&
        rule.runbooks.some((pattern) => runbookMatches(pattern, runbookId)) &&
        (rule.operators.includes(owner) ||
          rule.groups.some((group) => this.membersOf(group).includes(owner))),
    );
  }

  membersOf(group: string): string[] {
    return this.policy.groups[group] ?? [];
  }

  /**
   * Refuses an approval the gate's rule does not accept: the initiator when forbidden, an operator outside
   * the rule's group, one who already approved this gate. A break-glass approval is always accepted.
   */
  checkApproval(
    gate: { stepId: string; rule: ApprovalRule },
    candidate: VerifiedAction,
    context: { initiator: string; approvals: readonly VerifiedAction[] },
  ): void {
    if (candidate.breakGlass) return;
    const { rule, stepId } = gate;
    const still = rule.count - distinctOwners(context.approvals).length;
    if (rule.forbidInitiator && candidate.owner === context.initiator)
      throw refuse(
        'ApprovalRule',
        `two-person approval: ${candidate.owner} started this run and cannot approve "${stepId}"; another operator must run drctl approve (${describeRule(rule)})`,
      );
    if (rule.group !== undefined && !this.membersOf(rule.group).includes(candidate.owner))
      throw refuse(
        'ApprovalRule',
        `${candidate.owner} is not in group ${rule.group}, which "${stepId}" needs (${describeRule(rule)}; members: ${this.membersOf(rule.group).join(', ') || 'none'})`,
      );
    if (context.approvals.some((approval) => approval.owner === candidate.owner))
      throw refuse(
        'ApprovalRule',
        `${candidate.owner} already approved "${stepId}"; ${still} more approval${still === 1 ? '' : 's'} from ${rule.group ? `group ${rule.group}` : 'other operators'} needed (${describeRule(rule)})`,
      );
  }

  /** True when the approvals meet the rule: enough distinct verified owners, or one break-glass use. */
  static satisfied(rule: ApprovalRule, approvals: readonly VerifiedAction[]): boolean {
    return (
      approvals.some((approval) => approval.breakGlass) || distinctOwners(approvals).length >= rule.count
    );
  }
}

function distinctOwners(approvals: readonly VerifiedAction[]): string[] {
  return [...new Set(approvals.map((approval) => approval.owner))];
}

function refuse(code: AuthorizationRefusal, message: string): AuthorizationError {
  return new AuthorizationError(code, message);
}
