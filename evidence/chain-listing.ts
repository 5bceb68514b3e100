/** The chain as a list (what `drctl evidence list` and `show` print), read without judging it. */
import type { KeyObject } from 'node:crypto';
import type { ChainLayout } from './layout';
import type { EvidenceManifest } from './manifest';
import { mapBounded } from '../common/map-bounded';
import { CHAIN_READ_CONCURRENCY, readChain, readManifestObject, type ChainSlot } from './read-chain';
import { indexedFrom, indexedSequences } from './run-index';
import type { EvidenceStore } from './store-port';

export interface ChainEntry {
  sequence: number;
  key: string;
  /** sha256 of the manifest object. */
  sha256?: string;
  state: 'present' | 'missing' | 'deleted' | 'unreadable';
  /** A missing entry stands for sequences `sequence`..`through` (a gap is one entry however long). */
  through?: number;
  signature?: string;
  manifest?: EvidenceManifest;
}

export async function listChain(
  store: EvidenceStore,
  layout: ChainLayout,
  trustedKeys: readonly KeyObject[],
): Promise<ChainEntry[]> {
  return (await readChain(store, layout, trustedKeys)).map((slot) => entryOf(slot, layout));
}

function entryOf(slot: ChainSlot, layout: ChainLayout): ChainEntry {
  if (slot.state === 'missing') {
    const key = layout.manifestKey(slot.sequence);
    const through = slot.through === slot.sequence ? {} : { through: slot.through };
    return { sequence: slot.sequence, key, state: 'missing', ...through };
  }
  const key = slot.key;
  if (slot.state !== 'present') return { sequence: slot.sequence, key, state: slot.state };
  const signature = slot.signature.ok
    ? `verified (key ${slot.signature.keyId.slice(0, 16)}…)`
    : slot.signature.reason;
  if ('error' in slot.manifest)
    return { sequence: slot.sequence, key, sha256: slot.sha256, state: 'unreadable', signature };
  return {
    sequence: slot.sequence,
    key,
    sha256: slot.sha256,
    state: 'present',
    signature,
    manifest: slot.manifest,
  };
}

/**
 * The bundles of a run (`drctl evidence show`), read through the run index: the manifests its entries name, plus,
 * on a chain older than its index, every manifest listed below the index's first sequence. A chain without an
 * index is read whole, as before the index existed.
 */
export async function findBundles(
  store: EvidenceStore,
  layout: ChainLayout,
  trustedKeys: readonly KeyObject[],
  run: string,
): Promise<ChainEntry[]> {
  const from = await indexedFrom(store, layout);
  if (from === undefined) return bundlesOf(await listChain(store, layout, trustedKeys), run);
  const indexed = (await indexedSequences(store, layout, run)).filter((sequence) => sequence >= from);
  const sequences = [...new Set([...(await manifestsBelow(store, layout, from)), ...indexed])];
  const entries = await mapBounded(sequences, CHAIN_READ_CONCURRENCY, async (sequence) => {
    const key = layout.manifestKey(sequence);
    const read = await readManifestObject(store, key, trustedKeys);
    return read && entryOf({ sequence, state: 'present', key, versions: 1, ...read }, layout);
  });
  return bundlesOf(
    entries.filter((entry) => entry !== undefined),
    run,
  );
}

/**
 * On a chain begun before its index, the manifests listed below the index's start (a page of 1,000 a request,
 * stopping there): an `index/from/` key forged far ahead costs a listing of the chain, not billions of reads.
 */
async function manifestsBelow(store: EvidenceStore, layout: ChainLayout, from: number): Promise<number[]> {
  if (from <= 1) return [];
  const below: number[] = [];
  const stopAt = layout.manifestKey(from);
  let after: string | undefined;
  for (;;) {
    const listed = await store.listKeysPage(layout.manifestsPrefix, after, 1000);
    for (const entry of listed.keys) {
      if (entry.key >= stopAt) return below;
      const sequence = entry.deleted ? undefined : layout.sequenceOf(entry.key);
      if (sequence !== undefined) below.push(sequence);
    }
    after = listed.keys.at(-1)?.key;
    if (!listed.truncated || after === undefined) return below;
  }
}

/** The bundles of a run, by workflow id or run id (a drill's failover is found in its drill's bundle). */
export function bundlesOf(entries: ChainEntry[], run: string): ChainEntry[] {
  return entries.filter((entry) => {
    const manifest = entry.manifest;
    if (!manifest) return false;
    return (
      manifest.run.workflowId === run ||
      manifest.run.runId === run ||
      manifest.run.children.some((child) => child.workflowId === run || child.runId === run)
    );
  });
}
