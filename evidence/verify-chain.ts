/**
 * Walks an evidence chain and re-checks everything an auditor relies on: no sequence missing, every manifest
 * signed by a trusted key and in its place, every link naming the previous manifest's hash, every file's bytes
 * matching its recorded SHA-256, and every object locked in COMPLIANCE mode long enough. Each problem names
 * the sequence, the object and the values found against those expected.
 */
import type { KeyObject } from 'node:crypto';
import type { ChainLayout } from './layout';
import type { EvidenceManifest } from './manifest';
import { mapBounded } from '../common/map-bounded';
import {
  CHAIN_READ_CONCURRENCY,
  lastSequenceOf,
  listManifests,
  readSlots,
  type ChainSlot,
  type ListedManifest,
} from './read-chain';
import { addYears, MINIMUM_RETENTION_YEARS } from './retention';
import type { EvidenceStore, KeyVersions, StoredObject } from './store-port';
import { sha256Hex } from './manifest';
import { firstIndexed, indexEntryKeys } from './run-index';
import type { RunCoverage } from './run-coverage';

export type ProblemKind =
  | 'gap'
  | 'deleted'
  | 'unreadable'
  | 'bad-signature'
  | 'reordered'
  | 'broken-link'
  | 'missing-file'
  | 'edited-file'
  | 'overwritten'
  | 'retention-mode'
  | 'retention-shortened'
  | 'retention-policy'
  | 'not-indexed';

export interface ChainProblem {
  kind: ProblemKind;
  sequence: number;
  /** The object concerned, when there is one. */
  key?: string;
  expected?: string;
  actual?: string;
  message: string;
}

export interface VerifiedEntry {
  sequence: number;
  createdAt?: string;
  workflowId?: string;
  kind?: string;
  files: number;
  /** When its run closed, and the run ids it names (the run's and its children's). */
  closedAt?: string;
  runIds?: string[];
}

export interface VerifyReport {
  ok: boolean;
  location: string;
  root: string;
  /** Manifests checked (from `since` on) and the files they name. */
  manifests: number;
  files: number;
  first?: number;
  last?: number;
  entries: VerifiedEntry[];
  problems: ChainProblem[];
  /** The chain compared with the runs Temporal shows closed (`drctl evidence verify`), or why it was not. */
  runs?: RunCoverage | { notCompared: string };
}

export type Since = { sequence: number } | { date: Date };

export interface VerifyOptions {
  trustedKeys: readonly KeyObject[];
  /** Check from this sequence, or from the first manifest created at or after this date. */
  since?: Since;
  /** The retention policy in years; never below six. */
  minimumYears?: number;
}

export async function verifyChain(
  store: EvidenceStore,
  layout: ChainLayout,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const listed = await listManifests(store, layout);
  const start = firstSequence(listed, options.since);
  // From the manifest before the range: the range's first link is checked against it.
  const slots = await readSlots(store, listed, options.trustedKeys, Math.max(1, start - 1));
  // One listing of the whole chain gives every file's versions and delete markers.
  const versionsByKey = new Map((await store.listKeys(layout.root)).map((entry) => [entry.key, entry]));
  const indexFrom = firstIndexed(layout, versionsByKey.values());
  const policyYears = Math.max(MINIMUM_RETENTION_YEARS, options.minimumYears ?? MINIMUM_RETENTION_YEARS);
  const inRange = slots.flatMap((slot): ChainSlot[] => {
    if (lastSequenceOf(slot) < start) return [];
    // A gap that straddles the start is checked from the start on.
    return slot.state === 'missing' && slot.sequence < start ? [{ ...slot, sequence: start }] : [slot];
  });
  const bySequence = new Map(slots.map((slot) => [slot.sequence, slot]));
  const problems: ChainProblem[] = [];
  const entries: VerifiedEntry[] = [];
  /** Each file's checks, read after the walk CHAIN_READ_CONCURRENCY at a time, in order. */
  const fileReads: Array<() => Promise<ChainProblem[]>> = [];
  let files = 0;

  problems.push(...gaps(inRange));
  for (const slot of inRange) {
    if (slot.state === 'missing') continue;
    if (slot.state === 'deleted') {
      problems.push(await hiddenManifest(store, slot));
      continue;
    }
    const found: ChainProblem[] = [];
    if (!slot.signature.ok) {
      found.push({
        kind: 'bad-signature',
        sequence: slot.sequence,
        key: slot.key,
        message: `bad signature on manifest ${slot.sequence} (${slot.key}): ${slot.signature.reason}`,
      });
    }
    if ('error' in slot.manifest) {
      problems.push(...found, {
        kind: 'unreadable',
        sequence: slot.sequence,
        key: slot.key,
        message: `manifest ${slot.sequence} (${slot.key}) cannot be read: ${slot.manifest.error}`,
      });
      continue;
    }
    const manifest = slot.manifest;
    entries.push({
      sequence: slot.sequence,
      createdAt: manifest.createdAt,
      workflowId: manifest.run.workflowId,
      kind: manifest.run.kind,
      files: manifest.files.length,
      closedAt: manifest.run.closedAt,
      // A manifest is read before its signature is judged: its fields may be anything.
      runIds: [
        manifest.run.runId,
        // A child still running when the bundle was written is named, not kept: it does not count as bundled.
        ...(Array.isArray(manifest.run.children)
          ? manifest.run.children
              .filter((child) => child.closeStatus !== 'RUNNING')
              .map((child) => child.runId)
          : []),
      ],
    });
    found.push(...placement(slot, manifest, slots, bySequence));
    const required = requiredRetention(manifest, policyYears);
    found.push(...retentionPolicy(slot.sequence, slot.key, manifest, required, policyYears));
    if (slot.versions > 1) found.push(...(await displacedManifest(store, slot)));
    // A second version is worth its own report only when nothing above already explains it.
    const versions = found.length > 0 ? 1 : slot.versions;
    found.push(
      ...objectChecks(
        slot.sequence,
        slot.key,
        `manifest ${slot.sequence}`,
        slot.object,
        versions,
        required,
        policyYears,
      ),
    );
    if (found.length === 0)
      found.push(...indexChecks(layout, versionsByKey, indexFrom, slot.sequence, manifest));
    problems.push(...found);
    for (const file of manifest.files) {
      files++;
      fileReads.push(() =>
        fileChecks(store, versionsByKey, slot.sequence, manifest, file, required, policyYears),
      );
    }
  }
  for (const found of await mapBounded(fileReads, CHAIN_READ_CONCURRENCY, (check) => check()))
    problems.push(...found);

  // Stable: within a sequence the manifest's problems stay before its files'.
  problems.sort((a, b) => a.sequence - b.sequence);
  const present = inRange.filter((slot) => slot.state === 'present');
  return {
    ok: problems.length === 0,
    location: store.location,
    root: layout.root,
    manifests: present.length,
    files,
    ...(inRange.length > 0
      ? { first: inRange[0]!.sequence, last: lastSequenceOf(inRange[inRange.length - 1]!) }
      : {}),
    entries,
    problems,
  };
}

/**
 * From where the run index starts, each id the manifest names has its entry (`drctl evidence show` finds the run
 * only through it). A manifest appended by a worker older than the index has none; so has one written behind the
 * ledger.
 */
function indexChecks(
  layout: ChainLayout,
  versionsByKey: Map<string, KeyVersions>,
  from: number | undefined,
  sequence: number,
  manifest: EvidenceManifest,
): ChainProblem[] {
  if (from === undefined || sequence < from) return [];
  const missing = indexEntryKeys(layout, manifest.run, sequence).filter(
    (key) => versionsByKey.get(key) === undefined || versionsByKey.get(key)!.deleted,
  );
  if (missing.length === 0) return [];
  return [
    {
      kind: 'not-indexed',
      sequence,
      key: missing[0],
      message: `manifest ${sequence} (run ${manifest.run.workflowId}) is not in the run index, so \`drctl evidence show\` does not find it: ${missing.join(', ')} missing. It was appended by a worker older than the index, or written behind the ledger; write each as an empty object locked COMPLIANCE until ${manifest.retention.retainUntil}`,
    },
  ];
}

/**
 * A manifest hidden by a delete marker: Object Lock does not stop a DELETE without a version id, it only keeps the
 * locked version, which is still there to read by its id.
 */
async function hiddenManifest(
  store: EvidenceStore,
  slot: Extract<ChainSlot, { state: 'deleted' }>,
): Promise<ChainProblem> {
  const history = await store.listVersions(slot.key);
  const locked = history.versions[0]?.versionId;
  const marker = history.deleteMarkers.find((deleteMarker) => deleteMarker.isLatest)?.versionId;
  const readable = locked
    ? `; the manifest is still readable by version id (GetObject ${slot.key} versionId ${locked})${
        marker ? `, and deleting the delete marker (versionId ${marker}) makes it current again` : ''
      }`
    : '';
  return {
    kind: 'deleted',
    sequence: slot.sequence,
    key: slot.key,
    message: `manifest ${slot.sequence} is deleted: ${slot.key} is hidden by a delete marker (${slot.versions} locked version(s) remain: a DELETE without a version id hides a locked version, it cannot remove it)${readable}`,
  };
}

/**
 * A manifest key deleted and then written again: a conditional write (If-None-Match) succeeds over a delete
 * marker, so the current version displaced the manifest the chain held there, whose run may have dropped out.
 */
async function displacedManifest(
  store: EvidenceStore,
  slot: Extract<ChainSlot, { state: 'present' }>,
): Promise<ChainProblem[]> {
  const history = await store.listVersions(slot.key);
  if (history.deleteMarkers.length === 0) return [];
  const current = slot.object.versionId ?? history.versions[0]?.versionId;
  const earlier = history.versions
    .map((version) => version.versionId)
    .filter((versionId) => versionId !== current);
  return [
    {
      kind: 'deleted',
      sequence: slot.sequence,
      key: slot.key,
      expected: '1 version, no delete marker',
      actual: `${history.versions.length} versions, ${history.deleteMarkers.length} delete marker(s)`,
      message: `manifest ${slot.sequence} (${slot.key}) was deleted and written again: a delete marker lies among its versions, so its current version${current ? ` ${current}` : ''} took the place of the manifest stored before it, whose run may have dropped out of the chain; the earlier locked version(s) are still readable by version id (GetObject versionId ${earlier.join(', ')}): compare them`,
    },
  ];
}

/**
 * Where the walk starts: `--since` a sequence, or the first manifest S3 stored on or after a date (LastModified,
 * from the listing: no manifest is read before the range, and S3 sets the date, not the writer). Past the end
 * when none is.
 */
function firstSequence(listed: readonly ListedManifest[], since: Since | undefined): number {
  if (!since) return 1;
  if ('sequence' in since) return since.sequence;
  // A delete marker counts by its own date (when it hid the manifest, after the write): it can only move the start
  // earlier, so a manifest deleted in the range is walked and named, never skipped.
  const first = listed.find(({ entry }) => entry.lastModified >= since.date);
  return first?.sequence ?? (listed.at(-1)?.sequence ?? 0) + 1;
}

/** Each gap reported once: "sequences 4–6 are missing". */
function gaps(slots: ChainSlot[]): ChainProblem[] {
  return slots.flatMap((slot): ChainProblem[] => {
    if (slot.state !== 'missing') return [];
    const which =
      slot.sequence === slot.through
        ? `sequence ${slot.sequence} is`
        : `sequences ${slot.sequence}–${slot.through} are`;
    return [
      {
        kind: 'gap',
        sequence: slot.sequence,
        expected: String(slot.sequence),
        message: `gap in the chain: manifest ${which} missing (no object at all); the chain jumps from ${slot.sequence - 1} to ${slot.through + 1}`,
      },
    ];
  });
}

/** The manifest is where it claims to be, and links to the manifest before it. */
function placement(
  slot: Extract<ChainSlot, { state: 'present' }>,
  manifest: EvidenceManifest,
  all: ChainSlot[],
  bySequence: ReadonlyMap<number, ChainSlot>,
): ChainProblem[] {
  const problems: ChainProblem[] = [];
  if (manifest.sequence !== slot.sequence) {
    problems.push({
      kind: 'reordered',
      sequence: slot.sequence,
      key: slot.key,
      expected: String(slot.sequence),
      actual: String(manifest.sequence),
      message: `reordered link at position ${slot.sequence}: ${slot.key} holds the manifest of sequence ${manifest.sequence} (run ${manifest.run.workflowId})`,
    });
  }
  if (slot.sequence === 1) {
    if (manifest.previousManifestSha256 !== null) {
      problems.push({
        kind: 'broken-link',
        sequence: 1,
        key: slot.key,
        expected: 'null',
        actual: manifest.previousManifestSha256,
        message: `broken link before manifest 1: the first manifest names a previous manifest (sha256 ${manifest.previousManifestSha256}) that the chain does not have`,
      });
    }
    return problems;
  }
  const previous = bySequence.get(slot.sequence - 1);
  if (previous?.state !== 'present') return problems;
  if (manifest.previousManifestSha256 === previous.sha256) return problems;
  const named = all.find(
    (other): other is Extract<ChainSlot, { state: 'present' }> =>
      other.state === 'present' && other.sha256 === manifest.previousManifestSha256,
  );
  problems.push(
    named
      ? {
          kind: 'reordered',
          sequence: slot.sequence,
          key: slot.key,
          expected: previous.sha256,
          actual: manifest.previousManifestSha256 ?? 'null',
          message: `reordered link ${previous.sequence}→${slot.sequence}: manifest ${slot.sequence} names manifest ${named.sequence} (sha256 ${short(
            named.sha256,
          )}) as its predecessor, not manifest ${previous.sequence} (sha256 ${short(previous.sha256)})`,
        }
      : {
          kind: 'broken-link',
          sequence: slot.sequence,
          key: slot.key,
          expected: previous.sha256,
          actual: manifest.previousManifestSha256 ?? 'null',
          message: `broken link ${previous.sequence}→${slot.sequence}: manifest ${slot.sequence} names previous sha256 ${
            manifest.previousManifestSha256 ?? 'null'
          }, but manifest ${previous.sequence} as stored has sha256 ${previous.sha256} (manifest ${previous.sequence} was changed, or ${slot.sequence} was forged)`,
        },
  );
  return problems;
}

function requiredRetention(manifest: EvidenceManifest, policyYears: number): Date {
  return addYears(new Date(manifest.createdAt), policyYears);
}

function retentionPolicy(
  sequence: number,
  key: string,
  manifest: EvidenceManifest,
  required: Date,
  policyYears: number,
): ChainProblem[] {
  if (
    manifest.retention.mode === 'COMPLIANCE' &&
    Date.parse(manifest.retention.retainUntil) >= required.getTime()
  )
    return [];
  return [
    {
      kind: 'retention-policy',
      sequence,
      key,
      expected: `COMPLIANCE until ≥ ${required.toISOString()}`,
      actual: `${manifest.retention.mode} until ${manifest.retention.retainUntil}`,
      message: `manifest ${sequence} records retention ${manifest.retention.mode} until ${manifest.retention.retainUntil}, short of COMPLIANCE for ${policyYears} years from ${manifest.createdAt} (${required.toISOString()})`,
    },
  ];
}

/** Lock mode and date of one stored object, and whether anything was written over it. */
function objectChecks(
  sequence: number,
  key: string,
  what: string,
  object: Omit<StoredObject, 'body'>,
  versions: number,
  required: Date,
  policyYears: number,
): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const version = object.versionId ? `version ${object.versionId}, ` : '';
  if (object.lockMode !== 'COMPLIANCE') {
    problems.push({
      kind: 'retention-mode',
      sequence,
      key,
      expected: 'COMPLIANCE',
      actual: object.lockMode ?? 'none',
      // S3 answers an object's lock only to a caller allowed s3:GetObjectRetention: "none" may be that.
      message: `retention mode of ${what} (${key}, ${version}${versions} version(s)) is ${object.lockMode ?? 'none'}, required COMPLIANCE${object.lockMode === undefined ? ' (or this identity lacks s3:GetObjectRetention, without which S3 shows no lock: check that first)' : ''}`,
    });
  }
  const until = object.retainUntil;
  if (!until || until.getTime() < required.getTime()) {
    problems.push({
      kind: 'retention-shortened',
      sequence,
      key,
      expected: required.toISOString(),
      actual: until?.toISOString() ?? 'none',
      message: `shortened retention of ${what} (${key}, ${version}${versions} version(s)): retain-until ${
        until?.toISOString() ?? 'none'
      }, required at least ${required.toISOString()} (${policyYears} years from the manifest's creation)`,
    });
  }
  if (problems.length === 0 && versions > 1) {
    problems.push({
      kind: 'overwritten',
      sequence,
      key,
      expected: '1 version',
      actual: `${versions} versions`,
      message: `${what} (${key}) has ${versions} versions: something wrote to it after the ledger did (the current version still matches)`,
    });
  }
  return problems;
}

async function fileChecks(
  store: EvidenceStore,
  versionsByKey: ReadonlyMap<string, KeyVersions>,
  sequence: number,
  manifest: EvidenceManifest,
  file: EvidenceManifest['files'][number],
  required: Date,
  policyYears: number,
): Promise<ChainProblem[]> {
  const what = `file ${file.path} of ${manifest.run.workflowId} (manifest ${sequence})`;
  const versions = versionsByKey.get(file.key);
  const object = versions?.deleted ? undefined : await store.get(file.key);
  if (!object) {
    return [
      {
        kind: 'missing-file',
        sequence,
        key: file.key,
        expected: file.sha256,
        actual: versions?.deleted ? 'delete marker' : 'absent',
        message: `missing ${what}: ${file.key} is ${versions?.deleted ? 'hidden by a delete marker' : 'absent'}`,
      },
    ];
  }
  const actual = sha256Hex(object.body);
  const count = versions?.versions ?? 1;
  if (actual !== file.sha256) {
    return [
      {
        kind: 'edited-file',
        sequence,
        key: file.key,
        expected: file.sha256,
        actual,
        message: `edited ${what}: ${file.key}${object.versionId ? ` (version ${object.versionId} of ${count})` : ''} has sha256 ${actual}, the manifest records ${file.sha256}`,
      },
      ...objectChecks(sequence, file.key, what, object, 1, required, policyYears),
    ];
  }
  return objectChecks(sequence, file.key, what, object, count, required, policyYears);
}

function short(sha: string): string {
  return `${sha.slice(0, 12)}…`;
}
