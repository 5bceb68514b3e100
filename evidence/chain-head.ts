import { parseEnvelope } from './envelope';
import type { ChainLayout } from './layout';
import { parseManifest, sha256Hex, type EvidenceManifest } from './manifest';
import type { EvidenceStore, KeyVersions } from './store-port';

export interface ChainHead {
  sequence: number;
  key: string;
  /** sha256 of the manifest object's bytes: what the next manifest names as its previous. */
  sha256: string;
  /** The manifest, when its payload parses (a tampered head may not). */
  manifest?: EvidenceManifest;
}

/**
 * Where this worker last saw the chain's head: the ledger is the chain's one writer, so the head is almost always
 * still there (or a few appends on). A hint that is wrong costs requests, never a wrong head.
 */
export interface ChainHeadHint {
  sequence?: number;
}

/** Entries (versions and delete markers) one listing request asks for: S3's page size. */
const PAGE_ENTRIES = 1000;

/**
 * The newest manifest of the chain (highest sequence whose key is not deleted), or null for an empty chain.
 *
 * The chain only grows (6 years of runs under Object Lock: hundreds of thousands of manifests), so the head is not
 * found by listing every manifest, which S3 pages 1,000 entries at a time, on every append. One request lists the
 * manifests from the hint's on (from the first without a hint); when more follow than a page holds, the last page
 * is found by galloping and bisecting on one-entry listings (keys sort in sequence order): about 2·log₂(n / 1,000)
 * requests, 17 for 200,000 manifests where listing them all takes 200. Only when every manifest from there on is
 * hidden by a delete marker is the chain listed whole.
 */
export async function readChainHead(
  store: EvidenceStore,
  layout: ChainLayout,
  hint: ChainHeadHint = {},
): Promise<ChainHead | null> {
  const newest = await newestManifest(store, layout, hint.sequence);
  if (!newest) return null;
  hint.sequence = newest.sequence;
  const object = await store.get(newest.key);
  if (!object) return null;
  const head: ChainHead = { ...newest, sha256: sha256Hex(object.body) };
  const envelope = parseEnvelope(object.body);
  if ('error' in envelope) return head;
  const manifest = parseManifest(Buffer.from(envelope.payload, 'base64'));
  return 'error' in manifest ? head : { ...head, manifest };
}

type Located = { sequence: number; key: string };

async function newestManifest(
  store: EvidenceStore,
  layout: ChainLayout,
  hinted: number | undefined,
): Promise<Located | undefined> {
  const keyBefore = (sequence: number) => (sequence > 1 ? layout.manifestKey(sequence - 1) : undefined);
  let after = hinted === undefined ? undefined : keyBefore(hinted);
  let reached = 0;
  for (;;) {
    const page = await store.listKeysPage(layout.manifestsPrefix, after, PAGE_ENTRIES);
    // From the first key, an untruncated page is the whole chain; from further on, all of it may be deleted.
    if (!page.truncated)
      return (
        newestNotDeleted(page.keys, layout) ?? (after === undefined ? undefined : newestOfAll(store, layout))
      );
    const listed = page.keys.map((entry) => layout.sequenceOf(entry.key));
    const last = listed.at(-1);
    // A key that is not a manifest sorts among them (the search cannot step over it), or no progress (a key with
    // a page of versions): list everything.
    if (last === undefined || listed.includes(undefined) || last <= reached)
      return newestOfAll(store, layout);
    reached = last;
    const start = await lastPageStart(store, layout, last);
    if (start === undefined) return newestOfAll(store, layout);
    after = keyBefore(start);
  }
}

/**
 * Where the last page of manifests starts, given that sequence `known` has a key: gallops up a page at a time,
 * doubling, until no key is at or after the step, then bisects until less than a page is left. Undefined when a key
 * that is not a manifest is in the way.
 */
async function lastPageStart(
  store: EvidenceStore,
  layout: ChainLayout,
  known: number,
): Promise<number | undefined> {
  /** Whether a manifest key with sequence ≥ `sequence` exists; undefined if a non-manifest key comes first. */
  const anyFrom = async (sequence: number): Promise<boolean | undefined> => {
    const page = await store.listKeysPage(layout.manifestsPrefix, layout.manifestKey(sequence - 1), 1);
    const first = page.keys[0];
    if (first === undefined) return false;
    return layout.sequenceOf(first.key) === undefined ? undefined : true;
  };
  let low = known;
  let step = PAGE_ENTRIES;
  for (;;) {
    const found = await anyFrom(low + step);
    if (found === undefined) return undefined;
    if (!found) break;
    low += step;
    step *= 2;
  }
  let high = low + step;
  while (high - low > PAGE_ENTRIES) {
    const middle = Math.floor((low + high) / 2);
    const found = await anyFrom(middle);
    if (found === undefined) return undefined;
    if (found) low = middle;
    else high = middle;
  }
  return low;
}

function newestNotDeleted(keys: KeyVersions[], layout: ChainLayout): Located | undefined {
  let newest: Located | undefined;
  for (const entry of keys) {
    const sequence = layout.sequenceOf(entry.key);
    if (sequence === undefined || entry.deleted) continue;
    if (!newest || sequence > newest.sequence) newest = { sequence, key: entry.key };
  }
  return newest;
}

async function newestOfAll(store: EvidenceStore, layout: ChainLayout): Promise<Located | undefined> {
  return newestNotDeleted(await store.listKeys(layout.manifestsPrefix), layout);
}
