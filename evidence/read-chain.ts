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
  for (const entry of await store.listKeys(layout.manifestsPrefix)) {
    const sequence = layout.sequenceOf(entry.key);
    if (sequence !== undefined) bySequence.set(sequence, entry);
  }
  const highest = Math.max(0, ...bySequence.keys());
  const slots: ChainSlot[] = [];
  for (let sequence = 1; sequence <= highest; sequence++) {
    const entry = bySequence.get(sequence);
    if (!entry) {
      slots.push({ sequence, state: 'missing' });
      continue;
    }
    const object = entry.deleted ? undefined : await store.get(entry.key);
    if (!object) {
      slots.push({ sequence, state: 'deleted', key: entry.key, versions: entry.versions });
      continue;
    }
    const envelope = parseEnvelope(object.body);
    const signature: SignatureCheck =
      'error' in envelope
        ? { ok: false, reason: envelope.error }
        : checkEnvelopeSignature(envelope, trustedKeys);
    const manifest =
      'error' in envelope
        ? { error: envelope.error }
        : parseManifest(Buffer.from(envelope.payload, 'base64'));
    slots.push({
      sequence,
      state: 'present',
      key: entry.key,
      versions: entry.versions,
      object,
      sha256: sha256Hex(object.body),
      signature,
      manifest,
    });
  }
  return slots;
}
