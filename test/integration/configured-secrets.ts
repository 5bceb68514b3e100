import { readFileSync } from 'node:fs';
import type { StackInfo } from '../../sandbox/stack-info';

/**
 * Every secret value the sandbox configures for drctl (database passwords, Unleash tokens and their secret
 * halves, the codec server's token, the keyring's keys in base64 and hex, the evidence signing key): what a
 * scan of history, logs, reports or evidence must never find.
 */
export function configuredSecretValues(stack: StackInfo, evidenceSigningKeyFile?: string): string[] {
  const password = (url: string) => decodeURIComponent(new URL(url).password);
  const keyring = JSON.parse(readFileSync(stack.security.keyringFile, 'utf8')) as {
    keys: Record<string, string>;
  };
  return [
    password(stack.postgres.primaryUrl),
    password(stack.postgres.appUrl),
    stack.unleash.adminToken,
    stack.unleash.clientToken,
    stack.unleash.adminToken.split('.').pop()!,
    stack.unleash.clientToken.split('.').pop()!,
    stack.security.codecServer.token,
    ...Object.values(keyring.keys),
    ...Object.values(keyring.keys).map((key) => Buffer.from(key, 'base64').toString('hex')),
    ...(evidenceSigningKeyFile ? [readFileSync(evidenceSigningKeyFile, 'utf8').split('\n')[1]!] : []),
  ];
}
