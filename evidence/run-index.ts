/**
 * The chain's run index: which manifests name a workflow id or run id, so `drctl evidence show <run>` reads those
 * manifests instead of every manifest of a chain that keeps six years of runs. One empty object per id and
 * manifest (`index/runs/<id>/<sequence>`), written under the manifest's lock after the manifest itself, so an
 * entry never points ahead of the chain. An entry is a pointer, not evidence: the reader keeps only manifests that
 * really name the run.
 *
 * Chains written before the index have manifests no entry points to: `index/from/<sequence>` records the first
 * sequence indexed, and the reader also reads every manifest listed below it.
 */
import type { ChainLayout } from './layout';
import { sha256Hex, type EvidenceRun } from './manifest';
import type { EvidenceStore, KeyVersions, PutOptions } from './store-port';

const EMPTY = Buffer.alloc(0);
const EMPTY_SHA256 = sha256Hex(EMPTY);

/** S3's longest object key, in bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

/**
 * The index entries of the manifest at `sequence`: one per id `show` accepts for the run (its workflow id and run
 * id, and those of its children). An id too long for an S3 key is not indexed (found by `list` only), rather than
 * fail every retry of the append.
 */
export function indexEntryKeys(layout: ChainLayout, run: EvidenceRun, sequence: number): string[] {
  const ids = [run.workflowId, run.runId];
  for (const child of run.children) ids.push(child.workflowId, child.runId);
  return [...new Set(ids)]
    .map((id) => layout.sequenceKey(layout.indexPrefix(id), sequence))
    .filter((key) => Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES);
}

/**
 * Writes the index entries of the manifest at `sequence` (after it is stored), then, the first time a worker
 * indexes (`knownFrom` tells), records where the index starts if nothing has yet. Safe to repeat: every write is
 * conditional and an entry already there is kept.
 */
export async function indexManifest(
  store: EvidenceStore,
  layout: ChainLayout,
  sequence: number,
  run: EvidenceRun,
  lock: Pick<PutOptions, 'lockMode' | 'retainUntil'>,
  knownFrom: { indexFromKnown?: boolean } = {},
): Promise<void> {
  const entry = {
    ...lock,
    sha256Hex: EMPTY_SHA256,
    contentType: 'application/octet-stream',
    onlyIfAbsent: true,
  };
  await Promise.all(indexEntryKeys(layout, run, sequence).map((key) => store.put(key, EMPTY, entry)));
  if (knownFrom.indexFromKnown) return;
  if ((await indexedFrom(store, layout)) === undefined)
    await store.put(layout.sequenceKey(layout.indexFromPrefix, sequence), EMPTY, entry);
  knownFrom.indexFromKnown = true;
}

/** The sequences whose manifests the index says name `id`, in chain order. */
export async function indexedSequences(
  store: EvidenceStore,
  layout: ChainLayout,
  id: string,
): Promise<number[]> {
  return sequencesUnder(store, layout, layout.indexPrefix(id));
}

/**
 * The first sequence the index covers, or undefined when the chain has no index yet. With two claims (two writers
 * started indexing at once) the lower holds: both index everything they append.
 */
export async function indexedFrom(store: EvidenceStore, layout: ChainLayout): Promise<number | undefined> {
  return firstIndexed(layout, await store.listKeys(layout.indexFromPrefix));
}

/** The lowest `index/from/` sequence among listed keys (any others are ignored). */
export function firstIndexed(layout: ChainLayout, listed: Iterable<KeyVersions>): number | undefined {
  return sequencesIn(layout, layout.indexFromPrefix, listed)[0];
}

async function sequencesUnder(store: EvidenceStore, layout: ChainLayout, prefix: string): Promise<number[]> {
  return sequencesIn(layout, prefix, await store.listKeys(prefix));
}

/** The sequences the keys under `prefix` name (delete markers and other keys skipped), in chain order. */
function sequencesIn(layout: ChainLayout, prefix: string, listed: Iterable<KeyVersions>): number[] {
  const sequences: number[] = [];
  for (const entry of listed) {
    const sequence = entry.deleted ? undefined : layout.sequenceUnder(prefix, entry.key);
    if (sequence !== undefined) sequences.push(sequence);
  }
  return sequences.sort((a, b) => a - b);
}
