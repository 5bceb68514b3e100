/**
 * Envelope encryption: each payload is encrypted with a data key, and the data key travels with the payload
 * wrapped (encrypted) under a master key that never leaves its keeper (AWS KMS, or a local keyring file).
 */
export interface DataKey {
  /** Names the master key that wrapped this data key, with its keeper: `kms:<key ARN>` or `keyring:<id>`. */
  keyId: string;
  /** The 32-byte AES-256 key. Held in memory only, never written anywhere. */
  plaintext: Buffer;
  /** The data key wrapped under the master key; stored next to every payload it encrypted. */
  wrapped: Buffer;
}

/** A keeper of master keys: issues new data keys under its current key and unwraps data keys of any of its keys. */
export interface KeySource {
  /** `kms` or `keyring`: the prefix of the key ids this source issues. */
  readonly kind: string;
  /** A fresh data key wrapped under the current master key. */
  newDataKey(): Promise<DataKey>;
  /** The plaintext of a data key this source (or an earlier current key of it) wrapped. */
  unwrap(keyId: string, wrapped: Buffer): Promise<Buffer>;
  /**
   * Whether `keyId` names one of its master keys, where it can tell without asking anyone: a key a keyring file
   * holds, a KMS key the configuration lists as the deployment's.
   */
  holds?(keyId: string): boolean;
}

export const DATA_KEY_BYTES = 32;

/** Splits `kms:arn:…` into `kms` and `arn:…`. */
export function keyKeeper(keyId: string): { kind: string; id: string } {
  const colon = keyId.indexOf(':');
  return colon < 0 ? { kind: '', id: keyId } : { kind: keyId.slice(0, colon), id: keyId.slice(colon + 1) };
}

/**
 * A key id as one master key: a multi-Region KMS key's region left out (its replicas unwrap each other's data
 * keys), any other id as it is.
 */
export function sameMasterKey(keyId: string): string {
  return keyId.replace(/^(kms:arn:[\w-]+:kms:)[a-z0-9-]+(:\d{12}:key\/mrk-)/, '$1*$2');
}
