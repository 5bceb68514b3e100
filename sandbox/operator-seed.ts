import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AccessPolicy } from '../auth/access-policy';
import { createKeyFile, readKeyFile } from '../auth/io/key-file';
import { PERMISSIONS } from '../auth/permissions';
import { REPO_ROOT, SANDBOX_DIR } from './sandbox-paths';

/** The sandbox's demo operators: alice and bob on call, carol a DBA, dave may only plan. */
export const DEMO_OPERATORS = ['alice', 'bob', 'carol', 'dave'] as const;
export type DemoOperator = (typeof DEMO_OPERATORS)[number] | 'break-glass';

export const operatorPaths = {
  dir: resolve(SANDBOX_DIR, 'operators'),
  policyFile: resolve(SANDBOX_DIR, 'access-policy.json'),
  keyFile: (name: DemoOperator): string => resolve(SANDBOX_DIR, 'operators', `${name}.json`),
};

/** The sandbox's access policy: the demo operators by public key, two groups, and a break-glass key. */
export function demoPolicy(publicKeys: Record<DemoOperator, string>): AccessPolicy {
  return {
    version: 1,
    operators: {
      alice: { keys: [publicKeys.alice], description: 'on call' },
      bob: { keys: [publicKeys.bob], description: 'on call, DBA' },
      carol: { keys: [publicKeys.carol], description: 'DBA' },
      dave: { keys: [publicKeys.dave], description: 'auditor: may plan only' },
    },
    groups: { oncall: ['alice', 'bob'], dba: ['bob', 'carol'] },
    permissions: [
      { runbooks: ['*'], operators: [], groups: ['oncall'], allow: [...PERMISSIONS] },
      { runbooks: ['*'], operators: [], groups: ['dba'], allow: ['plan', 'approve', 'decide'] },
      { runbooks: ['*'], operators: ['dave'], groups: [], allow: ['plan'] },
      // An abort granted on evacuations named abort-* and on none of their runbooks: the tests show that such an
      // abort is refused while a failover is under way (each failover would refuse it).
      { runbooks: ['abort-*'], operators: ['carol'], groups: [], allow: ['abort'] },
    ],
    breakGlass: {
      'sandbox-emergency': {
        key: publicKeys['break-glass'],
        holder: 'sandbox safe (.sandbox/operators/break-glass.json)',
        runbooks: ['*'],
        allow: [...PERMISSIONS],
      },
    },
  };
}

/**
 * Creates the demo operators' key files once (0600, kept across restarts so a policy stays valid) and writes
 * the access policy naming their public keys. Returns the policy file.
 */
export function seedOperators(): string {
  const names: DemoOperator[] = [...DEMO_OPERATORS, 'break-glass'];
  const publicKeys = Object.fromEntries(
    names.map((name) => {
      const file = operatorPaths.keyFile(name);
      const key = existsSync(file) ? readKeyFile(file) : createKeyFile(file, name);
      return [name, key.publicKey];
    }),
  ) as Record<DemoOperator, string>;
  writeFileSync(operatorPaths.policyFile, `${JSON.stringify(demoPolicy(publicKeys), null, 2)}\n`, {
    mode: 0o600,
  });
  return operatorPaths.policyFile;
}

/** The sandbox's named drill injections: stop the PostgreSQL primary like a lost VM. */
export function sandboxInjections(): Record<string, string[]> {
  return {
    'stop-primary-vm': [
      process.execPath,
      resolve(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      resolve(REPO_ROOT, 'sandbox', 'cli.ts'),
      'kill-primary',
    ],
  };
}
