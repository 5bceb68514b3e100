import { randomBytes } from 'node:crypto';
import type { AccessPolicy, LoadedPolicy } from '../../auth/access-policy';
import { PERMISSIONS } from '../../auth/permissions';
import { generateKeyPair, signStatement } from '../../auth/io/native-ed25519';
import type { SignedStatement } from '../../auth/signature';
import type { OperatorStatement } from '../../auth/statement';

/** Key pairs of test operators, made once per test file. */
export function operatorKeys<N extends string>(
  ...names: N[]
): Record<N, { privateKey: string; publicKey: string }> {
  return Object.fromEntries(names.map((name) => [name, generateKeyPair()])) as Record<
    N,
    { privateKey: string; publicKey: string }
  >;
}

/** alice, bob (oncall: everything), carol (dba: approve/decide), dave (plan only), a break-glass key. */
export function testPolicy(
  keys: Record<'alice' | 'bob' | 'carol' | 'dave' | 'glass', { publicKey: string }>,
): LoadedPolicy {
  const policy: AccessPolicy = {
    version: 1,
    operators: {
      alice: { keys: [keys.alice.publicKey] },
      bob: { keys: [keys.bob.publicKey] },
      carol: { keys: [keys.carol.publicKey] },
      dave: { keys: [keys.dave.publicKey] },
    },
    groups: { oncall: ['alice', 'bob'], dba: ['bob', 'carol'] },
    permissions: [
      { runbooks: ['*'], operators: [], groups: ['oncall'], allow: [...PERMISSIONS] },
      { runbooks: ['ehr-*'], operators: [], groups: ['dba'], allow: ['plan', 'approve', 'decide'] },
      { runbooks: ['*'], operators: ['dave'], groups: [], allow: ['plan'] },
    ],
    breakGlass: {
      emergency: { key: keys.glass.publicKey, holder: 'CISO safe', runbooks: ['*'], allow: [...PERMISSIONS] },
    },
  };
  return { policy, sha256: 'f'.repeat(64), source: '(test)' };
}

export const NOW = Date.parse('2026-11-27T08:15:30Z');
export const RUNBOOK_HASH = 'a'.repeat(64);

export function statement(overrides: Partial<OperatorStatement> = {}): OperatorStatement {
  return {
    action: 'approve',
    operator: 'bob',
    runId: 'failover-ehr-db-20261127-081500',
    stepId: 'production-approval',
    runbookId: 'ehr-db',
    runbookHash: RUNBOOK_HASH,
    reason: 'INC-4411 region confirmed down',
    at: new Date(NOW - 10_000).toISOString(),
    nonce: randomBytes(16).toString('hex'),
    ...overrides,
  };
}

export function signedBy(
  key: { privateKey: string },
  overrides: Partial<OperatorStatement> = {},
): SignedStatement {
  return signStatement(statement(overrides), key.privateKey);
}
