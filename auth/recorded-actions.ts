import type { LoadedPolicy } from './access-policy';
import { OperatorAuthority } from './operator-authority';
import { permissionFor } from './permissions';
import { shortKey, signatureIsValid, type SignedStatement } from './signature';
import { signedScope } from './signed-scope';
import type { StartCover } from '../workflows/run-types';

/** An operator action as a run records it: the readable fields, and the signed statement they came from. */
export interface RecordedAction {
  action: string;
  /** The verified key owner (an operator name, or `break-glass:<id>`). */
  operator: string;
  reason: string;
  /** When the workflow accepted it (workflow time). */
  at: string;
  stepId?: string;
  breakGlass?: boolean;
  signed?: SignedStatement;
}

/** What a run's record says about itself, to check its recorded actions against. */
export interface RunRecord {
  runId: string;
  /** The reviewed catalog's runbook id (for a failback, the runbook it was derived from). */
  runbookId: string;
  runbookHash?: string;
  /** sha256 of the access policy file that governed the run. */
  policySha256?: string;
  /** Run ids a start statement may name besides runId: a drill's id for its child failover, a schedule id. */
  startedBy?: string[];
  /** The parent workflow that started the run (a drill, an evacuation): the run's reason is `<parent>: <signed reason>`. */
  parent?: string;
  /** The evacuation whose signed start covers the run's (and an abort it forwards), as the run recorded it. */
  signedFor?: StartCover;
  /** What the run shows as who started it and why (status, reports): it must be what the start signed. */
  headline?: { initiator: string; reason: string; forcedPastPlan?: string };
  operatorActions: RecordedAction[];
}

export interface ActionVerdict {
  index: number;
  action: string;
  operator: string;
  stepId?: string;
  ok: boolean;
  breakGlass: boolean;
  /** Why it failed, or what was verified. */
  detail: string;
}

/**
 * Re-verifies every recorded operator action of a run, offline: the policy given must be the one the run
 * recorded (by sha256); each action's signature must be valid, by a key the policy gives to the recorded
 * operator, who held the permission; and the readable fields (action, operator, reason, step) must be exactly
 * those signed. A single changed character anywhere fails the action that holds it.
 */
export function verifyRecordedActions(
  record: RunRecord,
  policy: LoadedPolicy,
): {
  ok: boolean;
  policyMatches: boolean;
  verdicts: ActionVerdict[];
} {
  const policyMatches = record.policySha256 === undefined || record.policySha256 === policy.sha256;
  const authority = new OperatorAuthority(policy);
  const owners = new Map<string, string>();
  for (const [name, operator] of Object.entries(policy.policy.operators))
    for (const key of operator.keys) owners.set(key, name);
  for (const [id, entry] of Object.entries(policy.policy.breakGlass))
    owners.set(entry.key, `break-glass:${id}`);

  const verdicts = record.operatorActions.map((recorded, index): ActionVerdict => {
    const base = {
      index,
      action: recorded.action,
      operator: recorded.operator,
      ...(recorded.stepId === undefined ? {} : { stepId: recorded.stepId }),
      breakGlass: recorded.breakGlass === true,
    };
    const fail = (detail: string): ActionVerdict => ({ ...base, ok: false, detail });
    const signed = recorded.signed;
    if (!signed) return fail('no signature recorded');
    if (!signatureIsValid(signed))
      return fail('signature does not match the signed statement (the statement was changed after signing)');
    const statement = signed.statement;
    const owner = owners.get(signed.publicKey);
    if (owner === undefined) return fail(`key ${shortKey(signed.publicKey)} is not in this policy`);
    if (owner !== recorded.operator)
      return fail(`recorded operator "${recorded.operator}" but the key belongs to ${owner}`);
    const expectedAction = recorded.action === 'start' ? undefined : recorded.action;
    if (expectedAction !== undefined && statement.action !== expectedAction)
      return fail(`recorded action "${recorded.action}" but the signed action is "${statement.action}"`);
    if (statement.reason !== recorded.reason)
      return fail(
        `recorded reason ${JSON.stringify(recorded.reason)} differs from the signed reason ${JSON.stringify(statement.reason)}`,
      );
    if ((recorded.stepId ?? undefined) !== (statement.stepId ?? undefined) && recorded.action !== 'start')
      return fail(
        `recorded step ${recorded.stepId ?? '(none)'} but the signed step is ${statement.stepId ?? '(none)'}`,
      );
    const scope = signedScope(record, recorded.action, statement);
    if ('problem' in scope) return fail(scope.problem);
    const { subject } = scope;
    const theRun =
      subject.noun === 'evacuation' ? 'the run was started under evacuation' : 'the run is runbook';
    if (statement.runbookId !== subject.id)
      return fail(`signed for ${statement.runbookId}, ${theRun} ${subject.id}`);
    if (subject.sha256 !== undefined && statement.runbookHash !== subject.sha256)
      return fail(
        `signed for sha256 ${statement.runbookHash}, ${theRun} ${subject.id} sha256 ${subject.sha256}`,
      );
    if ((statement.breakGlass === true) !== (recorded.breakGlass === true))
      return fail('the break-glass mark differs from the signed statement');
    if (recorded.action === 'start' && record.headline !== undefined) {
      const { initiator, reason, forcedPastPlan } = record.headline;
      const signedReason =
        scope.reasonPrefix === undefined ? statement.reason : `${scope.reasonPrefix}: ${statement.reason}`;
      if (initiator !== owner)
        return fail(
          `the run names ${JSON.stringify(initiator)} as its initiator, but the signed start is by ${owner}`,
        );
      if (reason !== signedReason)
        return fail(
          `the run's recorded reason ${JSON.stringify(reason)} differs from the signed start's reason ${JSON.stringify(signedReason)}`,
        );
      if (forcedPastPlan !== statement.detail?.force)
        return fail(
          `the run's recorded --force reason ${JSON.stringify(forcedPastPlan ?? null)} differs from the signed one ${JSON.stringify(statement.detail?.force ?? null)}`,
        );
    }
    const permission = permissionFor(statement.action);
    if (!authority.allows(owner, permission, statement.runbookId))
      return fail(`${owner} does not hold ${permission} on ${statement.runbookId} in this policy`);
    if (scope.alsoRequires && !authority.allows(owner, scope.alsoRequires, record.runbookId))
      return fail(`${owner} does not hold ${scope.alsoRequires} on ${record.runbookId} in this policy`);
    const under = scope.under;
    return {
      ...base,
      ok: true,
      detail: `signed by ${owner} (${shortKey(signed.publicKey)}) at ${statement.at}${under}${base.breakGlass ? ', BREAK-GLASS' : ''}`,
    };
  });
  return { ok: policyMatches && verdicts.every((verdict) => verdict.ok), policyMatches, verdicts };
}

/** What a report says of one action's signature. */
export interface SignatureCheck {
  status: 'verified' | 'invalid' | 'unsigned' | 'unchecked';
  detail?: string;
}

/**
 * A per-action signature check for reports (the drill report's participants), from the same verification as
 * `drctl verify-run`. Under a policy other than the one the run recorded, nothing is claimed verified.
 */
export function signatureCheckFor(
  record: RunRecord,
  policy: LoadedPolicy,
): (action: RecordedAction) => SignatureCheck {
  const { policyMatches, verdicts } = verifyRecordedActions(record, policy);
  const byAction = new Map<RecordedAction, ActionVerdict>();
  record.operatorActions.forEach((action, index) => {
    const verdict = verdicts[index];
    if (verdict) byAction.set(action, verdict);
  });
  return (action) => {
    const verdict = byAction.get(action);
    if (action.signed === undefined) return { status: 'unsigned' };
    if (!policyMatches)
      return {
        status: 'unchecked',
        detail: `the run was governed by policy sha256 ${record.policySha256 ?? '?'}, not the one given (${policy.sha256})`,
      };
    if (verdict === undefined) return { status: 'unchecked', detail: 'not an action of this run' };
    return verdict.ok
      ? { status: 'verified', detail: verdict.detail }
      : { status: 'invalid', detail: verdict.detail };
  };
}
