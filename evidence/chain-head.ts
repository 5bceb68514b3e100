import { parseEnvelope } from './envelope';
import type { ChainLayout } from './layout';
import { parseManifest, sha256Hex, type EvidenceManifest } from './manifest';
import type { EvidenceStore } from './store-port';

export interface ChainHead {
  sequence: number;
  key: string;
  /** sha256 of the manifest object's bytes: what the next manifest names as its previous. */
  sha256: string;
  /** The manifest, when its payload parses (a tampered head may not). */
  manifest?: EvidenceManifest;
}

/** The newest manifest of the chain (highest sequence whose key is not deleted), or null for an empty chain. */
export async function readChainHead(store: EvidenceStore, layout: ChainLayout): Promise<ChainHead | null> {
  const keys = await store.listKeys(layout.manifestsPrefix);
  let newest: { sequence: number; key: string } | undefined;
  for (const entry of keys) {
    const sequence = layout.sequenceOf(entry.key);
    if (sequence === undefined || entry.deleted) continue;
    if (!newest || sequence > newest.sequence) newest = { sequence, key: entry.key };
  }
  if (!newest) return null;
  const object = await store.get(newest.key);
  if (!object) return null;
  const head: ChainHead = { ...newest, sha256: sha256Hex(object.body) };
  const envelope = parseEnvelope(object.body);
  if ('error' in envelope) return head;
  const manifest = parseManifest(Buffer.from(envelope.payload, 'base64'));
  return 'error' in manifest ? head : { ...head, manifest };
}
