import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ed25519PrivateKey, generateKeyPair, isPrivateKey, nativePublicKeyOf } from './native-ed25519';
import { AuthFileError } from './auth-file-error';
import { OPERATOR_NAME } from '../operator-name';

/** An operator's key file: the private key never leaves it; the public key goes into the access policy. */
export interface OperatorKey {
  name: string;
  publicKey: string;
  privateKey: string;
  file: string;
}

interface KeyFileContent {
  format: 'drctl-operator-key/1';
  name: string;
  algorithm: 'ed25519';
  publicKey: string;
  privateKey: string;
  createdAt: string;
}

/** Creates a new key pair in `file` (0600, its folder 0700). Refuses to replace a key unless `force`. */
export function createKeyFile(
  file: string,
  name: string,
  options: { force?: boolean; now?: Date } = {},
): OperatorKey {
  if (existsSync(file) && !options.force)
    throw new AuthFileError(
      'KeyFileExists',
      file,
      `key file ${file} already exists; not replacing it (its public key may be in an access policy). Pass --force to replace it, or --file for another path`,
    );
  const { privateKey, publicKey } = generateKeyPair();
  const content: KeyFileContent = {
    format: 'drctl-operator-key/1',
    name,
    algorithm: 'ed25519',
    publicKey,
    privateKey,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { name, publicKey, privateKey, file };
}

/** Reads and checks a key file; every problem names the file and the field. */
export function readKeyFile(file: string): OperatorKey {
  if (!existsSync(file))
    throw new AuthFileError(
      'KeyFileMissing',
      file,
      `no operator key at ${file}: create one with \`drctl keys init --name <you>\` and have its public key added to the worker's access policy (or set DRCTL_KEY_FILE)`,
    );
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new AuthFileError(
      'KeyFileInvalid',
      file,
      `key file ${file} is readable by others (mode ${mode.toString(8)}): run \`chmod 600 ${file}\``,
    );
  let parsed: Partial<KeyFileContent>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFileContent>;
  } catch (error) {
    throw new AuthFileError(
      'KeyFileInvalid',
      file,
      `key file ${file} is corrupt: not JSON (${(error as Error).message}); restore it, or create a new key with \`drctl keys init --force\``,
    );
  }
  const invalid = (field: string, what: string) =>
    new AuthFileError(
      'KeyFileInvalid',
      file,
      `key file ${file} is corrupt: ${field} ${what}; restore it, or create a new key with \`drctl keys init --force\``,
      [{ path: field, message: what }],
    );
  if (typeof parsed !== 'object' || parsed === null) throw invalid('(file)', 'is not a JSON object');
  if (parsed.format !== 'drctl-operator-key/1') throw invalid('format', 'must be "drctl-operator-key/1"');
  if (typeof parsed.name !== 'string' || !parsed.name) throw invalid('name', 'is missing');
  // The name becomes the runs' DrctlInitiator search attribute, which is not encrypted: a plain name only.
  if (!OPERATOR_NAME.test(parsed.name))
    throw invalid(
      'name',
      'must be an operator name (lower case letters, digits and . _ @ -), as in the access policy',
    );
  if (!isPrivateKey(parsed.privateKey)) throw invalid('privateKey', 'must be 64 hex digits');
  const publicKey = nativePublicKeyOf(ed25519PrivateKey(parsed.privateKey));
  if (parsed.publicKey !== publicKey) throw invalid('publicKey', 'does not belong to privateKey');
  return { name: parsed.name, publicKey, privateKey: parsed.privateKey, file };
}
