import type { Payload, PayloadCodec } from '@temporalio/common';
import { METADATA_ENCODING_KEY } from '@temporalio/common/lib/converter/types';
import { LRUCache } from 'lru-cache';
import { isKmsKeyArn } from '../../common/kms-key-id';
import { open, seal } from './aes-gcm';
import { CodecError } from './codec-error';
import { decodePayload, encodePayload } from './payload-message';
import { keyKeeper, sameMasterKey, type DataKey, type KeySource } from './key-source';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const CIPHER = 'AES-256-GCM';
export const METADATA_CIPHER = 'encryption-cipher';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_DATA_KEY = 'encryption-data-key';

export interface EncryptionCodecOptions {
  /** Wraps the data keys of new payloads. */
  encryptWith: KeySource;
  /** Further keepers whose payloads this process may read (e.g. the keyring after a move to KMS). */
  alsoDecryptWith?: KeySource[];
  /** How long one data key encrypts before a new one is made. Default 5 minutes. */
  dataKeyMaxAgeMs?: number;
  /** How many payloads one data key encrypts at most (random 96-bit nonces: stay far below 2^32). Default 10,000. */
  dataKeyMaxUses?: number;
  /** How long an unwrapped data key is kept for decoding. Default 5 minutes. */
  unwrappedKeyTtlMs?: number;
  now?: () => number;
}

/** How often, at most, a key id the codec does not know makes it ask its keeper for the current key again. */
export const OWN_KEY_RECHECK_MS = 10_000;

/**
 * A Temporal PayloadCodec: each payload (its metadata and data, as one protobuf) is sealed with AES-256-GCM
 * under a data key; the payload's metadata names the master key and carries the wrapped data key, both
 * authenticated. Payloads without the encrypted encoding (history from before the codec was on) pass through.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly maxAgeMs: number;
  private readonly maxUses: number;
  private readonly now: () => number;
  private readonly sources: KeySource[];
  private current: { key: DataKey; createdAt: number; uses: number } | undefined;
  private making: Promise<DataKey> | undefined;
  private readonly unwrapped: LRUCache<string, Buffer, { keyId: string; wrapped: Buffer }>;
  /** The ids of the master keys this process made data keys under, as `sameMasterKey` spells them. */
  private readonly issuedUnder = new Set<string>();
  /** When `isOwnKey` last asked the keeper for the current key because a payload named one it did not know. */
  private ownKeyAskedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: EncryptionCodecOptions) {
    this.maxAgeMs = options.dataKeyMaxAgeMs ?? 300_000;
    this.maxUses = options.dataKeyMaxUses ?? 10_000;
    if (!(this.maxAgeMs > 0 && this.maxUses >= 1)) {
      throw new CodecError('CodecMisconfigured', 'dataKeyMaxAgeMs and dataKeyMaxUses must be positive');
    }
    this.now = options.now ?? Date.now;
    this.sources = [options.encryptWith, ...(options.alsoDecryptWith ?? [])];
    this.unwrapped = new LRUCache({
      max: 1000,
      ttl: options.unwrappedKeyTtlMs ?? 300_000,
      fetchMethod: async (_cacheKey, _stale, { context }) =>
        this.sourceFor(context.keyId).unwrap(context.keyId, context.wrapped),
    });
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const key = await this.dataKey();
        const data = seal(key.plaintext, encodePayload(payload), aad(key.keyId, key.wrapped));
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
            [METADATA_CIPHER]: Buffer.from(CIPHER),
            [METADATA_KEY_ID]: Buffer.from(key.keyId),
            [METADATA_DATA_KEY]: key.wrapped,
          },
          data,
        };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const metadata = payload.metadata ?? {};
        if (text(metadata[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
        const cipher = text(metadata[METADATA_CIPHER]);
        const keyId = text(metadata[METADATA_KEY_ID]);
        const wrappedBytes = metadata[METADATA_DATA_KEY];
        if (cipher !== CIPHER || !keyId || !wrappedBytes || !payload.data) {
          throw new CodecError(
            'PayloadTampered',
            `an encrypted payload lacks its cipher (${cipher ?? 'none'}, expected ${CIPHER}), key id or data key: it was not written by drctl's codec or was altered`,
          );
        }
        const wrapped = Buffer.from(wrappedBytes);
        const dataKey = await this.unwrapped.fetch(cacheKeyOf(keyId, wrapped), {
          context: { keyId, wrapped },
        });
        if (dataKey === undefined)
          throw new CodecError('KeyUnavailable', `no data key for a payload under ${keyId}`);
        let inner: Buffer;
        try {
          inner = open(dataKey, payload.data, aad(keyId, wrapped));
        } catch {
          throw new CodecError(
            'PayloadTampered',
            `a payload encrypted under ${keyId} fails its AES-GCM authentication: its data or metadata were altered`,
          );
        }
        try {
          return decodePayload(inner);
        } catch (error) {
          throw new CodecError(
            'PayloadMalformed',
            `a payload encrypted under ${keyId} decrypts, but not to a payload message (${(error as Error).message}): it was not written by drctl's codec`,
          );
        }
      }),
    );
  }

  /**
   * Whether a payload's key id names one of this deployment's master keys: the key new payloads are encrypted
   * under (KMS answers with its ARN; a multi-Region key's replicas count as one), an earlier current key of this
   * process, a key the keyring holds, or a KMS key the configuration lists (`codec.knownKmsKeyArns`). Asks no keeper about a key it does not hold: a key id is the payload's
   * own claim, and a run anyone started may name any region or account. A key it does not know makes it ask for
   * the current key again (a new data key), at most every `OWN_KEY_RECHECK_MS`: an alias moved to a new key is
   * known within seconds, not only once the current data key is replaced (up to 5 minutes), while a CLI already
   * writes under the new key. Fails as making a data key fails.
   */
  async isOwnKey(keyId: string): Promise<boolean> {
    const { kind, id } = keyKeeper(keyId);
    // A KMS key id that is no key ARN (a region `*`, an alias) was written by no KMS answer: no key of ours.
    if (kind === 'kms' && !isKmsKeyArn(id)) return false;
    const source = this.sources.find((candidate) => candidate.kind === kind);
    if (this.issuedUnder.has(sameMasterKey(keyId)) || source?.holds?.(keyId)) return true;
    if (this.current === undefined || this.now() - this.ownKeyAskedAt >= OWN_KEY_RECHECK_MS) {
      this.ownKeyAskedAt = this.now();
      await this.newCurrentKey();
    }
    return this.issuedUnder.has(sameMasterKey(keyId));
  }

  /**
   * The current data key, replaced when too old or used up. Callers waiting for a new key share one request,
   * then compete for its uses like everyone else, so no key ever exceeds its bound.
   */
  private async dataKey(): Promise<DataKey> {
    for (;;) {
      const current = this.current;
      if (current && this.now() - current.createdAt < this.maxAgeMs && current.uses < this.maxUses) {
        current.uses += 1;
        return current.key;
      }
      await this.newCurrentKey();
    }
  }

  private newCurrentKey(): Promise<DataKey> {
    this.making ??= this.options.encryptWith.newDataKey().then(
      (key) => {
        this.current = { key, createdAt: this.now(), uses: 0 };
        this.issuedUnder.add(sameMasterKey(key.keyId));
        this.unwrapped.set(cacheKeyOf(key.keyId, key.wrapped), key.plaintext);
        this.making = undefined;
        return key;
      },
      (error: unknown) => {
        this.making = undefined;
        throw error;
      },
    );
    return this.making;
  }

  private sourceFor(keyId: string): KeySource {
    const { kind } = keyKeeper(keyId);
    const source = this.sources.find((candidate) => candidate.kind === kind);
    if (source === undefined) {
      throw new CodecError(
        'KeyUnavailable',
        `a payload was encrypted under ${keyId}, but this process has no ${kind || 'such'} key source (it has ${this.sources.map((s) => s.kind).join(', ')}); ` +
          (kind === 'kms'
            ? 'set codec.kmsKeyId / DRCTL_CODEC_KMS_KEY_ID'
            : 'set codec.keyringFile / DRCTL_CODEC_KEYRING_FILE') +
          ' so it can read that history',
      );
    }
    return source;
  }
}

/** The key id an encrypted payload names ('' when it names none); undefined for a payload the codec left plain. */
export function encryptionKeyOf(payload: Payload): string | undefined {
  const metadata = payload.metadata ?? {};
  if (text(metadata[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return undefined;
  return text(metadata[METADATA_KEY_ID]) ?? '';
}

function cacheKeyOf(keyId: string, wrapped: Buffer): string {
  return `${keyId}\u0000${wrapped.toString('base64')}`;
}

function aad(keyId: string, wrapped: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`drctl-payload:v1\u0000${keyId}\u0000`), wrapped]);
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}
