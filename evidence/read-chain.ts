/** Reads every manifest of a chain in sequence order, keeping what each object holds and how it is stored. */
import { mapBounded } from '../common/map-bounded';
import { checkEnvelopeSignature, parseEnvelope, type SignatureCheck } from './envelope';
import type { ChainLayout } from './layout';
import { parseManifest, sha256Hex, type EvidenceManifest } from './manifest';
import type { KeyObject } from 'node:crypto';
import type { EvidenceStore, KeyVersions, StoredObject } from './store-port';

export type ChainSlot =
  | { sequence: number; state: 'missing' }
  | { sequence: number; state: 'deleted'; key: string; versions: number }
  | {
      sequence: number;
      state: 'present';
      key: string;
      versions: number;
      /** The object's version and lock; its bytes are not kept (a walk of six years of manifests would hold them all). */
      object: Omit<StoredObject, 'body'>;
      sha256: string;
      signature: SignatureCheck;
      manifest: EvidenceManifest | { error: string };
    };

/**
 * GetObject requests a walk of the chain keeps in flight. One at a time, six years of manifests (and, for `verify`,
 * their files) take hours at S3's per-request latency; the S3 client's connection pool (50 sockets) has room.
 */
export const CHAIN_READ_CONCURRENCY = 16;

/** Slots 1..highest sequence seen (deleted keys included), so a missing sequence shows as a `missing` slot. */
export async function readChain(
  store: EvidenceStore,
  layout: ChainLayout,
  trustedKeys: readonly KeyObject[],
): Promise<ChainSlot[]> {
  const bySequence = new Map<number, KeyVersions>();
  // Not Math.max(...keys): spreading a chain of 6 years (over ~120,000 manifests) overflows the call stack.
  let highest = 0;
  for (const entry of await store.listKeys(layout.manifestsPrefix)) {
    const sequence = layout.sequenceOf(entry.key);
    if (sequence === undefined) continue;
    bySequence.set(sequence, entry);
    highest = Math.max(highest, sequence);
  }
  const sequences = Array.from({ length: highest }, (_, index) => index + 1);
  const slots = await mapBounded(sequences, CHAIN_READ_CONCURRENCY, async (sequence): Promise<ChainSlot> => {
    const entry = bySequence.get(sequence);
    if (!entry) return { sequence, state: 'missing' };
    const read = entry.deleted ? undefined : await readManifestObject(store, entry.key, trustedKeys);
    if (!read) return { sequence, state: 'deleted', key: entry.key, versions: entry.versions };
    return { sequence, state: 'present', key: entry.key, versions: entry.versions, ...read };
  });
  return slots;
}

/** A manifest object as stored, its hash and signature check, and its manifest; undefined when absent or deleted. */
export async function readManifestObject(
  store: EvidenceStore,
  key: string,
  trustedKeys: readonly KeyObject[],
): Promise<
  Pick<Extract<ChainSlot, { state: 'present' }>, 'object' | 'sha256' | 'signature' | 'manifest'> | undefined
> {
  const object = await store.get(key);
  if (!object) return undefined;
  const envelope = parseEnvelope(object.body);
  const signature: SignatureCheck =
    'error' in envelope
      ? { ok: false, reason: envelope.error }
      : checkEnvelopeSignature(envelope, trustedKeys);
  const manifest =
    'error' in envelope ? { error: envelope.error } : parseManifest(Buffer.from(envelope.payload, 'base64'));
  const { body, ...stored } = object;
  return { object: stored, sha256: sha256Hex(body), signature, manifest };
}
