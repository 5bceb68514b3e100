import { defineRunbook } from '../../runbooks/define-runbook';
import { approvalRuleOf } from '../../auth/approval-rule';
import { canonicalStatement } from '../../auth/statement';
import { AuthorizationError, OperatorAuthority, type Expectation } from '../../auth/operator-authority';
import { signStatement } from '../../auth/io/native-ed25519';
import { signatureIsValid } from '../../auth/signature';
import { NOW, operatorKeys, RUNBOOK_HASH, signedBy, statement, testPolicy } from './auth-fixtures';

const keys = operatorKeys('alice', 'bob', 'carol', 'dave', 'glass', 'mallory');
const authority = new OperatorAuthority(testPolicy(keys));

const expectation: Expectation = {
  actions: ['approve'],
  runId: 'failover-ehr-db-20261127-081500',
  stepId: 'production-approval',
  runbookId: 'ehr-db',
  runbookHash: RUNBOOK_HASH,
  now: NOW,
};

function refusal(run: () => unknown): AuthorizationError {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthorizationError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but it was accepted');
}

describe('signatures', () => {
  it('GIVEN a signed statement WHEN one character of the reason changes THEN the signature no longer verifies', () => {
    const signed = signedBy(keys.bob);
    expect(signatureIsValid(signed)).toBe(true);
    const changed = {
      ...signed,
      statement: { ...signed.statement, reason: 'INC-4412 region confirmed down' },
    };
    expect(signatureIsValid(changed)).toBe(false);
  });

  it('GIVEN the canonical text WHEN a reason holds a newline THEN it cannot forge a field line', () => {
    const text = canonicalStatement(statement({ reason: 'ok\naction="abort"' }));
    expect(text.split('\n').filter((line) => line.startsWith('action='))).toEqual(['action="approve"']);
    expect(text.split('\n')[0]).toBe('drctl-operator-statement/1');
  });
});

describe('OperatorAuthority.verify', () => {
  it('GIVEN a fresh statement by bob WHEN verified THEN the verified owner is bob', () => {
    const verified = authority.verify(signedBy(keys.bob), expectation);
    expect(verified).toMatchObject({ owner: 'bob', breakGlass: false });
  });

  it.each([
    ['a missing signature', () => ({ statement: statement() }), 'Unsigned', /unsigned/],
    [
      'a forged name (alice signs as bob)',
      () => signedBy(keys.alice, { operator: 'bob' }),
      'ForgedName',
      /forged name: the statement says "bob" but is signed by alice's key/,
    ],
    [
      'an unknown key',
      () => signedBy(keys.mallory),
      'UnknownKey',
      /unknown key: ed25519:[0-9a-f]{16}… is not in the access policy/,
    ],
    [
      "the wrong key (signed by mallory, presented as bob's key)",
      () => ({ ...signedBy(keys.mallory), publicKey: keys.bob.publicKey }),
      'BadSignature',
      /bad signature/,
    ],
    [
      'a right key without the role (dave may only plan)',
      () => signedBy(keys.dave, { operator: 'dave' }),
      'NotPermitted',
      /not permitted: dave may not approve runbook ehr-db/,
    ],
    [
      'a stale statement (6 minutes old)',
      () => signedBy(keys.bob, { at: new Date(NOW - 6 * 60_000).toISOString() }),
      'Stale',
      // A signer whose clock is 6 minutes slow signs statements that look 6 minutes old: running the command again
      // does not help (before: the message said only that), so it names the clock too.
      /stale statement: signed 360 s ago .*run the command again.*signer's clock is about 360 s behind the worker's: correct it/,
    ],
    [
      'a statement from the future',
      () => signedBy(keys.bob, { at: new Date(NOW + 5 * 60_000).toISOString() }),
      'Stale',
      /from the future/,
    ],
    [
      'another run',
      () => signedBy(keys.bob, { runId: 'failover-ehr-db-20261127-090000' }),
      'WrongRun',
      /the statement is for run failover-ehr-db-20261127-090000/,
    ],
    [
      'another runbook hash',
      () => signedBy(keys.bob, { runbookHash: 'b'.repeat(64) }),
      'RunbookMismatch',
      /sha256 bbbbbbbbbbbb…, but this run is ehr-db sha256 aaaaaaaaaaaa…/,
    ],
    [
      'a break-glass key used without saying so',
      () => signedBy(keys.glass, { operator: 'anyone' }),
      'BreakGlassMisuse',
      /break-glass key: use it only in an emergency, on purpose, with --break-glass/,
    ],
    [
      '--break-glass with an ordinary key',
      () => signedBy(keys.bob, { breakGlass: true }),
      'BreakGlassMisuse',
      /not a break-glass key/,
    ],
    ['an empty reason', () => signedBy(keys.bob, { reason: '  ' }), 'ReasonRequired', /a reason is required/],
  ])('GIVEN %s WHEN verified THEN it is refused saying why', (_what, make, code, message) => {
    const error = refusal(() => authority.verify(make(), expectation));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('GIVEN a statement signed before this run started WHEN verified under the same lock id THEN it is refused as one for an earlier run', () => {
    // Runs of one runbook share a workflow id: an approval from the run before must not carry over.
    const earlier = signedBy(keys.bob, { at: new Date(NOW - 3 * 60_000).toISOString() });
    expect(() => authority.verify(earlier, { ...expectation, runStartedAt: NOW - 4 * 60_000 })).not.toThrow();
    const error = refusal(() => authority.verify(earlier, { ...expectation, runStartedAt: NOW - 60_000 }));
    expect(error.code).toBe('Stale');
    expect(error.message).toMatch(
      /before this run of failover-ehr-db-20261127-081500 started .* an earlier run under the same id.*signer's clock is behind/,
    );
  });

  it('GIVEN a run that takes only statements naming it WHEN a statement names it, names another run of the same id, or names none THEN the first is accepted and the others refused as for another run', () => {
    const bound = { ...expectation, temporalRunId: 'run-b' };
    expect(authority.verify(signedBy(keys.bob, { detail: { run: 'run-b' } }), bound).owner).toBe('bob');
    const other = refusal(() => authority.verify(signedBy(keys.bob, { detail: { run: 'run-a' } }), bound));
    expect(other.code).toBe('WrongRun');
    expect(other.message).toMatch(/for run run-a of failover-ehr-db-20261127-081500, not this one \(run-b\)/);
    const unnamed = refusal(() => authority.verify(signedBy(keys.bob), bound));
    expect(unnamed.code).toBe('WrongRun');
    expect(unnamed.message).toMatch(/names no run \(detail\.run\).*sign it again with this drctl/);
    // A run recorded before statements named their run accepts one that names none, as it did.
    expect(authority.verify(signedBy(keys.bob), expectation).owner).toBe('bob');
  });

  it('GIVEN a nonce already accepted in the run WHEN verified again THEN it is refused as a replay', () => {
    const signed = signedBy(keys.bob);
    authority.verify(signed, expectation);
    const error = refusal(() =>
      authority.verify(signed, { ...expectation, usedNonces: new Set([signed.statement.nonce]) }),
    );
    expect(error.code).toBe('ReplayedNonce');
    expect(error.message).toMatch(/replayed statement/);
  });

  it('GIVEN a schedule statement months old WHEN freshness is not checked THEN it is accepted', () => {
    const old = signedBy(keys.alice, {
      operator: 'alice',
      action: 'schedule',
      at: new Date(NOW - 90 * 86_400_000).toISOString(),
    });
    expect(
      authority.verify(old, { ...expectation, actions: ['schedule'], checkFreshness: false }).owner,
    ).toBe('alice');
  });

  it('GIVEN the break-glass key with --break-glass WHEN verified THEN the owner is the break-glass entry', () => {
    const signed = signStatement(
      statement({ operator: 'break-glass', breakGlass: true }),
      keys.glass.privateKey,
    );
    expect(authority.verify(signed, expectation)).toMatchObject({
      owner: 'break-glass:emergency',
      breakGlass: true,
      holder: 'CISO safe',
    });
  });

  it('GIVEN glob permissions WHEN carol (dba on ehr-*) approves another runbook THEN she is refused', () => {
    expect(authority.allows('carol', 'approve', 'ehr-db')).toBe(true);
    expect(authority.allows('carol', 'approve', 'patient-portal-rds')).toBe(false);
    expect(authority.allows('carol', 'failover', 'ehr-db')).toBe(false);
  });
});

describe('approval rules', () => {
  const approve = (key: { privateKey: string }, operator: string) =>
    authority.verify(signedBy(key, { operator }), expectation);
  const twoOfDba = {
    stepId: 'production-approval',
    rule: approvalRuleOf({ approvers: { count: 2, group: 'dba', forbidInitiator: true } }),
  };

  it('GIVEN a two-person gate WHEN the initiator approves THEN it is refused by verified key owner', () => {
    const gate = { stepId: 'production-approval', rule: approvalRuleOf({ twoPerson: true }) };
    const error = refusal(() =>
      authority.checkApproval(gate, approve(keys.alice, 'alice'), { initiator: 'alice', approvals: [] }),
    );
    expect(error.message).toMatch(
      /two-person approval: alice started this run and cannot approve "production-approval"/,
    );
    expect(() =>
      authority.checkApproval(gate, approve(keys.bob, 'bob'), { initiator: 'alice', approvals: [] }),
    ).not.toThrow();
  });

  it('GIVEN 2 of dba WHEN one dba member approved THEN the gate is not satisfied and a second approval by the same member is refused', () => {
    const bob = approve(keys.bob, 'bob');
    authority.checkApproval(twoOfDba, bob, { initiator: 'alice', approvals: [] });
    expect(OperatorAuthority.satisfied(twoOfDba.rule, [bob])).toBe(false);
    const again = refusal(() =>
      authority.checkApproval(twoOfDba, approve(keys.bob, 'bob'), { initiator: 'alice', approvals: [bob] }),
    );
    expect(again.message).toMatch(
      /bob already approved "production-approval"; 1 more approval from group dba needed/,
    );
    const carol = approve(keys.carol, 'carol');
    authority.checkApproval(twoOfDba, carol, { initiator: 'alice', approvals: [bob] });
    expect(OperatorAuthority.satisfied(twoOfDba.rule, [bob, carol])).toBe(true);
  });

  it('GIVEN a group rule WHEN an operator outside the group approves THEN it is refused naming the group', () => {
    const error = refusal(() =>
      authority.checkApproval(twoOfDba, approve(keys.alice, 'alice'), { initiator: 'bob', approvals: [] }),
    );
    expect(error.message).toMatch(
      /alice is not in group dba, which "production-approval" needs \(2 approvers from dba, not the initiator; members: bob, carol\)/,
    );
  });

  it('GIVEN any rule WHEN the break-glass key approves THEN the gate is satisfied on its own', () => {
    const glass = authority.verify(
      signStatement(statement({ operator: 'break-glass', breakGlass: true }), keys.glass.privateKey),
      expectation,
    );
    authority.checkApproval(twoOfDba, glass, { initiator: 'bob', approvals: [] });
    expect(OperatorAuthority.satisfied(twoOfDba.rule, [glass])).toBe(true);
  });
});

describe('approval rules in runbooks', () => {
  const base = {
    id: 'gated',
    title: 'gated',
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
  };

  it('GIVEN approvers in an approval step WHEN validated THEN the rule is kept and twoPerson is its shorthand', () => {
    const runbook = defineRunbook({
      ...base,
      steps: [
        { id: 'two-dbas', kind: 'approval', approvers: { count: 2, group: 'dba' }, twoPerson: true },
        { id: 'anyone-else', kind: 'approval', twoPerson: true },
      ],
    });
    const [dbas, anyone] = runbook.steps as Array<Parameters<typeof approvalRuleOf>[0]>;
    expect(approvalRuleOf(dbas!)).toEqual({ count: 2, group: 'dba', forbidInitiator: true });
    expect(approvalRuleOf(anyone!)).toEqual({ count: 1, forbidInitiator: true });
  });

  it('GIVEN approvers with a count of 0 or an unknown field WHEN validated THEN the path of the bad field is named', () => {
    expect(() =>
      defineRunbook({
        ...base,
        steps: [{ id: 'gate', kind: 'approval', approvers: { count: 0, quorum: 'most' } as never }],
      }),
    ).toThrow(/steps\[0\]\.approvers/);
  });
});
