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
  /** True once this worker saw that the chain's run index records where it starts (run-index.ts). */
  indexFromKnown?: boolean;
}

/** Entries (versions and delete markers) one listing request asks for: S3's page size. */
const PAGE_ENTRIES = 1000;

/**
 * The newest manifest of the chain, or null for an empty chain: the highest sequence whose key holds a manifest
 * version, hidden by a delete marker or not. Object Lock does not stop a plain DELETE from hiding a locked manifest;
 * a head that skipped it would have the next append take its sequence again (If-None-Match writes over a delete
 * marker) and drop its run from the chain. A hidden head is read by its version id.
 *
 * The chain only grows (6 years of runs under Object Lock: hundreds of thousands of manifests), so the head is not
 * found by listing every manifest, which S3 pages 1,000 entries at a time, on every append. One request lists the
 * manifests from the hint's on (from the first without a hint); when more follow than a page holds, the last page
 * is found by galloping and bisecting on one-entry listings (keys sort in sequence order): about 2·log₂(n / 1,000)
 * requests, 17 for 200,000 manifests where listing them all takes 200. Only when no key from there on holds a
 * version (delete markers alone) is the chain listed whole.
 */
export async function readChainHead(
  store: EvidenceStore,
  layout: ChainLayout,
  hint: ChainHeadHint = {},
): Promise<ChainHead | null> {
  const newest = await newestManifest(store, layout, hint.sequence);
  if (!newest) return null;
  hint.sequence = newest.sequence;
  const object = (await store.get(newest.key)) ?? (await hiddenVersion(store, newest.key));
  if (!object) {
    throw new HiddenHeadUnreadableError(
      `the chain's newest manifest ${store.location}/${newest.key} is hidden by a delete marker and no version of it is left to read: ` +
        'nothing is appended after a head it cannot link to; run `drctl evidence verify` and investigate who deletes in the evidence bucket',
    );
  }
  const head: ChainHead = { ...newest, sha256: sha256Hex(object.body) };
  const envelope = parseEnvelope(object.body);
  if ('error' in envelope) return head;
  const manifest = parseManifest(Buffer.from(envelope.payload, 'base64'));
  return 'error' in manifest ? head : { ...head, manifest };
}

/** The newest manifest's key was listed with versions, yet none can be read: nothing is appended after it. */
export class HiddenHeadUnreadableError extends Error {
  readonly code = 'EvidenceHiddenHeadUnreadable';
  constructor(message: string) {
    super(message);
    this.name = 'HiddenHeadUnreadableError';
  }
}

/** The newest version under a delete marker (the one the ledger wrote, unless more were written over it). */
async function hiddenVersion(store: EvidenceStore, key: string) {
  const newest = (await store.listVersions(key)).versions[0];
  return newest === undefined ? undefined : store.getVersion(key, newest.versionId);
}

type Located = { sequence: number; key: string };

/**
 * What a key under the manifests prefix is to the search: a manifest; a key that sorts before every manifest (the
 * console's folder object `manifests/`) or after them (a `README.txt`), which the search steps over; or a key among
 * them that is not a manifest (`0000000007.bak`), which it cannot reason about.
 */
function kindOf(key: string, layout: ChainLayout): 'manifest' | 'before' | 'after' | 'among' {
  if (layout.sequenceOf(key) !== undefined) return 'manifest';
  const rest = key.slice(layout.manifestsPrefix.length);
  if (/^\d/.test(rest)) return 'among';
  return rest < '0' ? 'before' : 'after';
}

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
    if (page.keys.some((entry) => kindOf(entry.key, layout) === 'among')) return newestOfAll(store, layout);
    const last = page.keys.at(-1);
    // The page holds every manifest from its start: it is not truncated, or it reached a key sorting after them.
    if (!page.truncated || (last !== undefined && kindOf(last.key, layout) === 'after'))
      // From the first key that is the whole chain; from further on, its keys may hold delete markers alone.
      return (
        newestStored(page.keys, layout) ?? (after === undefined ? undefined : newestOfAll(store, layout))
      );
    const lastSequence = last === undefined ? undefined : layout.sequenceOf(last.key);
    // No progress (a key with a page of versions), or nothing listed: list everything.
    if (lastSequence === undefined || lastSequence <= reached) return newestOfAll(store, layout);
    reached = lastSequence;
    const start = await lastPageStart(store, layout, lastSequence);
    if (start === undefined) return newestOfAll(store, layout);
    after = keyBefore(start);
  }
}

/**
 * Where the last page of manifests starts, given that sequence `known` has a key: gallops up a page at a time,
 * doubling, until no manifest is at or after the step, then bisects until less than a page is left. Undefined
 * when a key among the manifests that is not one is in the way.
 */
async function lastPageStart(
  store: EvidenceStore,
  layout: ChainLayout,
  known: number,
): Promise<number | undefined> {
  /** Whether a manifest with sequence ≥ `sequence` exists; undefined when a non-manifest among them is first. */
  const anyFrom = async (sequence: number): Promise<boolean | undefined> => {
    const page = await store.listKeysPage(layout.manifestsPrefix, layout.manifestKey(sequence - 1), 1);
    const first = page.keys[0];
    if (first === undefined) return page.truncated ? undefined : false;
    return { manifest: true, after: false, before: undefined, among: undefined }[kindOf(first.key, layout)];
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

/** A key with a version is taken, deleted or not; one with delete markers alone never held a manifest. */
function newestStored(keys: KeyVersions[], layout: ChainLayout): Located | undefined {
  let newest: Located | undefined;
  for (const entry of keys) {
    const sequence = layout.sequenceOf(entry.key);
    if (sequence === undefined || entry.versions === 0) continue;
    if (!newest || sequence > newest.sequence) newest = { sequence, key: entry.key };
  }
  return newest;
}

async function newestOfAll(store: EvidenceStore, layout: ChainLayout): Promise<Located | undefined> {
  return newestStored(await store.listKeys(layout.manifestsPrefix), layout);
}
