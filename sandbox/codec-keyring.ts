import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { newKeyringJson } from '../security/codec/keyring-key-source';
import { sandboxPaths } from './sandbox-paths';

export const SANDBOX_KEYRING_FILE = resolve(sandboxPaths.dir, 'codec-keyring.json');

/**
 * The sandbox encrypts history under a local keyring rather than moto's KMS: moto forgets its keys on every
 * `reset`, while the Temporal history (SQLite) stays, and would become unreadable. Created once, mode 0600.
 */
export function ensureSandboxKeyring(): string {
  if (!existsSync(SANDBOX_KEYRING_FILE)) {
    mkdirSync(sandboxPaths.dir, { recursive: true });
    writeFileSync(SANDBOX_KEYRING_FILE, newKeyringJson('sandbox-1'), { mode: 0o600, flag: 'wx' });
  }
  return SANDBOX_KEYRING_FILE;
}
