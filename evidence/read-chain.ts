/** Reads every manifest of a chain in sequence order, keeping what each object holds and how it is stored. */
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
      object: StoredObject;
      sha256: string;
      signature: SignatureCheck;
      manifest: EvidenceManifest | { error: string };
    };

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
  const slots: ChainSlot[] = [];
  for (let sequence = 1; sequence <= highest; sequence++) {
    const entry = bySequence.get(sequence);
    if (!entry) {
      slots.push({ sequence, state: 'missing' });
      continue;
    }
    const read = entry.deleted ? undefined : await readManifestObject(store, entry.key, trustedKeys);
    if (!read) {
      slots.push({ sequence, state: 'deleted', key: entry.key, versions: entry.versions });
      continue;
    }
    slots.push({ sequence, state: 'present', key: entry.key, versions: entry.versions, ...read });
  }
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
  return { object, sha256: sha256Hex(object.body), signature, manifest };
}
