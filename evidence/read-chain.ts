/** Reads every manifest of a chain in sequence order, keeping what each object holds and how it is stored. */
import { mapBounded } from '../common/map-bounded';
import { checkEnvelopeSignature, parseEnvelope, type SignatureCheck } from './envelope';
import type { ChainLayout } from './layout';
import { parseManifest, sha256Hex, type EvidenceManifest } from './manifest';
import type { KeyObject } from 'node:crypto';
import type { EvidenceStore, KeyVersions, StoredObject } from './store-port';

export type ChainSlot =
  /** Sequences `sequence`..`through` have no object at all: one slot per gap, however long. */
  | { sequence: number; through: number; state: 'missing' }
  | { sequence: number; state: 'deleted'; key: string; versions: number }
  | {
      sequence: number;
      state: 'present';
      key: string;
      versions: number;
      /** The object's version and lock; its bytes are hashed and parsed on reading, not kept. */
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

/** A manifest key as listed, with the sequence it names. */
export interface ListedManifest {
  sequence: number;
  entry: KeyVersions;
}

/** Every manifest key of the chain (the exact form it writes), in sequence order: one listing, no object read. */
export async function listManifests(store: EvidenceStore, layout: ChainLayout): Promise<ListedManifest[]> {
  const listed: ListedManifest[] = [];
  for (const entry of await store.listKeys(layout.manifestsPrefix)) {
    const sequence = layout.sequenceOf(entry.key);
    if (sequence !== undefined && sequence >= 1) listed.push({ sequence, entry });
  }
  return listed.sort((a, b) => a.sequence - b.sequence);
}

/** The whole chain from sequence 1 (`readSlots` of every listed manifest). */
export async function readChain(
  store: EvidenceStore,
  layout: ChainLayout,
  trustedKeys: readonly KeyObject[],
): Promise<ChainSlot[]> {
  return readSlots(store, await listManifests(store, layout), trustedKeys);
}

/**
 * The chain in sequence order from `from`: a slot per listed manifest key (deleted keys included), each read, and
 * one `missing` slot per gap between them. A gap is one slot however long: a key forged far ahead
 * (`manifests/9999999999.dsse.json`) must make `verify` report a gap, not allocate a slot per missing sequence.
 */
export async function readSlots(
  store: EvidenceStore,
  listed: readonly ListedManifest[],
  trustedKeys: readonly KeyObject[],
  from = 1,
): Promise<ChainSlot[]> {
  const read = await mapBounded(
    listed.filter(({ sequence }) => sequence >= from),
    CHAIN_READ_CONCURRENCY,
    async ({ sequence, entry }): Promise<ChainSlot> => {
      const found = entry.deleted ? undefined : await readManifestObject(store, entry.key, trustedKeys);
      if (!found) return { sequence, state: 'deleted', key: entry.key, versions: entry.versions };
      return { sequence, state: 'present', key: entry.key, versions: entry.versions, ...found };
    },
  );
  const slots: ChainSlot[] = [];
  let expected = from;
  for (const slot of read) {
    if (slot.sequence > expected)
      slots.push({ sequence: expected, through: slot.sequence - 1, state: 'missing' });
    slots.push(slot);
    expected = slot.sequence + 1;
  }
  return slots;
}

/** The last sequence a slot covers. */
export function lastSequenceOf(slot: ChainSlot): number {
  return slot.state === 'missing' ? slot.through : slot.sequence;
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
