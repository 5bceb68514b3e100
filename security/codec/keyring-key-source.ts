import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { open, seal } from './aes-gcm';
import { CodecError } from './codec-error';
import { DATA_KEY_BYTES, type DataKey, type KeySource } from './key-source';

/**
 * A local keyring file, for the sandbox and for sites without KMS:
 * `{ "current": "k2", "keys": { "k1": "<base64 of 32 random bytes>", "k2": "…" } }`.
 * The current key wraps new data keys; every key listed unwraps the data keys it once wrapped, so rotation is
 * "add a key, make it current, keep the old one". The file is re-read when a new data key is made and when a
 * payload names a key not yet seen, so a running worker follows a rotation without a restart.
 */
export interface Keyring {
  current: string;
  keys: Record<string, string>;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createKeyringKeySource(path: string): KeySource {
  let keys = readKeyring(path);
  const wrapAad = (id: string) => Buffer.from(`drctl-keyring-wrap:v1:${id}`);
  const masterKey = (keyId: string): Buffer | undefined => {
    const id = keyId.slice('keyring:'.length);
    if (!keys.keys.has(id)) keys = readKeyring(path);
    return keys.keys.get(id);
  };

  return {
    kind: 'keyring',
    async newDataKey(): Promise<DataKey> {
      keys = readKeyring(path);
      const master = keys.keys.get(keys.current)!;
      const plaintext = randomBytes(DATA_KEY_BYTES);
      return {
        keyId: `keyring:${keys.current}`,
        plaintext,
        wrapped: seal(master, plaintext, wrapAad(keys.current)),
      };
    },
    holds(keyId): boolean {
      return masterKey(keyId) !== undefined;
    },
    async unwrap(keyId, wrapped): Promise<Buffer> {
      const id = keyId.slice('keyring:'.length);
      const master = masterKey(keyId);
      if (master === undefined) {
        throw new CodecError(
          'KeyUnavailable',
          `payload was encrypted under keyring key "${id}", which ${path} no longer holds (it has ${[...keys.keys.keys()].join(', ')}); ` +
            'put that key back into the keyring: rotation must keep old keys for reading',
        );
      }
      try {
        return open(master, wrapped, wrapAad(id));
      } catch {
        throw new CodecError(
          'PayloadTampered',
          `the data key stored with a payload does not unwrap under keyring key "${id}" of ${path}: the key was replaced by another with the same id, or the payload was altered`,
        );
      }
    },
  };
}

/** Reads and checks a keyring file: private to its owner, a current key that exists, every key 32 bytes. */
export function readKeyring(path: string): { current: string; keys: Map<string, Buffer> } {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CodecError(
      'KeyringInvalid',
      `cannot read the codec keyring ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix codec.keyringFile / DRCTL_CODEC_KEYRING_FILE`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new CodecError(
      'KeyringInvalid',
      `the codec keyring ${path} is readable by others (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${path}`,
    );
  }
  let parsed: Partial<Keyring>;
  try {
    parsed = JSON.parse(text) as Partial<Keyring>;
  } catch {
    throw new CodecError(
      'KeyringInvalid',
      `the codec keyring ${path} is not JSON: expected {"current": id, "keys": {id: base64}}`,
    );
  }
  const keys = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(parsed.keys ?? {})) {
    const key = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    if (!KEY_ID.test(id) || key.length !== DATA_KEY_BYTES) {
      throw new CodecError(
        'KeyringInvalid',
        `keyring ${path}: keys.${id} must have an id of letters, digits, . _ - and a value of ${DATA_KEY_BYTES} random bytes in base64 (e.g. openssl rand -base64 32)`,
      );
    }
    keys.set(id, key);
  }
  if (typeof parsed.current !== 'string' || !keys.has(parsed.current)) {
    throw new CodecError(
      'KeyringInvalid',
      `keyring ${path}: "current" must name one of its keys (${[...keys.keys()].join(', ') || 'none'}), not ${JSON.stringify(parsed.current)}`,
    );
  }
  return { current: parsed.current, keys };
}

/** A new keyring holding one fresh random key, as JSON: what `sandbox up` writes (mode 0600) on first use. */
export function newKeyringJson(id: string): string {
  const keyring: Keyring = { current: id, keys: { [id]: randomBytes(DATA_KEY_BYTES).toString('base64') } };
  return `${JSON.stringify(keyring, null, 2)}\n`;
}
