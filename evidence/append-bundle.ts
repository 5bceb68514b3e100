/**
 * Appends one bundle to the chain: its files first, then the signed manifest that names them and the previous
 * manifest's hash, then the manifest's run index entries (run-index.ts). Meant to be called by one writer at a
 * time (the ledger workflow); the manifest is still written conditionally (only if its key is free), so a second
 * writer could never fork the chain silently.
 * Safe to repeat after a crash: a bundle already at the head is returned as is, files already stored with the
 * same bytes are kept (their lock extended to this attempt's date). Nothing the ledger did not produce in this
 * attempt is ever named by its manifest.
 */
import type { KeyObject } from 'node:crypto';
import { readChainHead, type ChainHeadHint } from './chain-head';
import { signEnvelope } from './envelope';
import type { ChainLayout } from './layout';
import {
  MANIFEST_SCHEMA,
  manifestPayload,
  sha256Hex,
  type EvidenceManifest,
  type EvidenceRun,
  type ManifestFile,
} from './manifest';
import { retainUntilFor } from './retention';
import { indexManifest } from './run-index';
import type { EvidenceStore, PutOptions } from './store-port';

export interface BundleFile {
  path: string;
  body: Buffer;
  contentType: string;
}

/**
 * Reports are renderings of the run's recorded history and result: a retry may render one otherwise than an earlier
 * attempt stored it (the worker's access policy changed), so a taken path is not a reason to lose the bundle.
 */
function isRendering(path: string): boolean {
  return path.startsWith('reports/');
}

/** Hex digits of the sha256 put in a rendering's path when its own path is taken: 64 bits, not guessable ahead. */
const CONTENT_SUFFIX_HEX = 16;

/** `reports/report.md` → `reports/report.<first 16 hex of sha256>.md`: a path only these bytes claim. */
function contentAddressedPath(path: string, sha256: string): string {
  const suffix = sha256.slice(0, CONTENT_SUFFIX_HEX);
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  // A dot that starts the file name (`.hidden`) or sits in a folder name is not an extension.
  if (dot <= slash + 1) return `${path}.${suffix}`;
  return `${path.slice(0, dot)}.${suffix}${path.slice(dot)}`;
}

export interface BundleContent {
  run: EvidenceRun;
  files: BundleFile[];
}

export interface ChainWriter {
  store: EvidenceStore;
  layout: ChainLayout;
  namespace: string;
  signingKey: KeyObject;
  retentionYears: number;
  now: () => Date;
  /** Where this writer last saw the head (kept across appends by the worker): the head is found in one request. */
  headHint?: ChainHeadHint;
}

export interface AppendResult {
  sequence: number;
  manifestKey: string;
  manifestSha256: string;
  /** True when this run's bundle was already the head (a repeated request or a retried write). */
  alreadyWritten: boolean;
}

/** Two writers raced for one sequence number: something other than the ledger writes to this chain. */
export class ChainConflictError extends Error {
  readonly code = 'EvidenceChainConflict';
  constructor(message: string) {
    super(message);
    this.name = 'ChainConflictError';
  }
}

/** An object already stored under a bundle file's key holds other bytes. */
export class BundleFileConflictError extends Error {
  readonly code = 'EvidenceFileConflict';
  constructor(message: string) {
    super(message);
    this.name = 'BundleFileConflictError';
  }
}

/**
 * Stores one file under `key` unless the key holds it already. The same bytes left by an earlier attempt are kept,
 * their lock extended to this attempt's date: the manifest promises every file locked until its own retain-until.
 */
async function storeFile(
  store: EvidenceStore,
  key: string,
  file: BundleFile,
  sha256: string,
  lock: Pick<PutOptions, 'lockMode' | 'retainUntil'>,
): Promise<'stored' | 'other-bytes'> {
  const written = await store.put(key, file.body, {
    ...lock,
    sha256Hex: sha256,
    contentType: file.contentType,
    onlyIfAbsent: true,
  });
  if (written === 'written') return 'stored';
  const existing = await store.get(key);
  if (existing === undefined || sha256Hex(existing.body) !== sha256) return 'other-bytes';
  const lockedUntil = existing.retainUntil;
  if (existing.lockMode !== 'COMPLIANCE' || lockedUntil === undefined || lockedUntil < lock.retainUntil) {
    // Never asks for an earlier date than the version holds: S3 refuses to shorten a lock.
    const until =
      lockedUntil !== undefined && lockedUntil > lock.retainUntil ? lockedUntil : lock.retainUntil;
    await store.extendRetention(key, until, existing.versionId);
  }
  return 'stored';
}

export async function appendBundle(writer: ChainWriter, content: BundleContent): Promise<AppendResult> {
  const { store, layout } = writer;
  const head = await readChainHead(store, layout, writer.headHint);
  const { workflowId, runId } = content.run;
  if (head?.manifest?.run.workflowId === workflowId && head.manifest.run.runId === runId) {
    // A retry after a crash between the manifest and its index entries: write what is missing, locked from now
    // (at least as long as the manifest; the head's own date is not trusted, its signature is not checked here).
    const retainUntil = retainUntilFor(writer.now(), writer.retentionYears);
    await indexManifest(
      store,
      layout,
      head.sequence,
      head.manifest.run,
      { lockMode: 'COMPLIANCE', retainUntil },
      writer.headHint,
    );
    return {
      sequence: head.sequence,
      manifestKey: head.key,
      manifestSha256: head.sha256,
      alreadyWritten: true,
    };
  }

  const createdAt = writer.now();
  const retainUntil = retainUntilFor(createdAt, writer.retentionYears);
  const lock = { lockMode: 'COMPLIANCE' as const, retainUntil };
  const files: ManifestFile[] = [];
  for (const file of content.files) {
    const sha256 = sha256Hex(file.body);
    let key = layout.fileKey(workflowId, runId, file.path);
    let stored = await storeFile(store, key, file, sha256, lock);
    if (stored === 'other-bytes' && isRendering(file.path)) {
      // The bytes under the path were not rendered by this attempt (an earlier one, or anyone allowed to put
      // objects in the bucket): this attempt's rendering goes beside them, and the manifest names it, not them.
      key = layout.fileKey(workflowId, runId, contentAddressedPath(file.path, sha256));
      stored = await storeFile(store, key, file, sha256, lock);
    }
    if (stored === 'other-bytes') {
      throw new BundleFileConflictError(
        `${store.location}/${key} already holds other bytes than ${file.path} of run ${workflowId}/${runId} ` +
          '(locked objects cannot be replaced): run `drctl evidence verify` and investigate before writing this bundle',
      );
    }
    files.push({ path: file.path, key, sha256, bytes: file.body.length, contentType: file.contentType });
  }

  const sequence = (head?.sequence ?? 0) + 1;
  const manifest: EvidenceManifest = {
    schema: MANIFEST_SCHEMA,
    sequence,
    previousManifestSha256: head?.sha256 ?? null,
    namespace: writer.namespace,
    createdAt: createdAt.toISOString(),
    run: content.run,
    retention: {
      mode: 'COMPLIANCE',
      retainUntil: retainUntil.toISOString(),
      minimumYears: writer.retentionYears,
    },
    files,
  };
  const envelope = signEnvelope(manifestPayload(manifest), writer.signingKey);
  const bytes = Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`, 'utf8');
  const manifestKey = layout.manifestKey(sequence);
  const manifestSha256 = sha256Hex(bytes);
  const written = await store.put(manifestKey, bytes, {
    ...lock,
    sha256Hex: manifestSha256,
    contentType: 'application/json',
    onlyIfAbsent: true,
  });
  // 'exists' also when the SDK sent this very write again after the first went through and its answer was lost:
  // the same bytes (a deterministic signature over the same manifest) are this append's own manifest.
  if (
    written === 'exists' &&
    sha256Hex((await store.get(manifestKey))?.body ?? Buffer.alloc(0)) !== manifestSha256
  ) {
    throw new ChainConflictError(
      `${store.location}/${manifestKey} was written by someone else while the ledger appended run ${workflowId}/${runId}: ` +
        'only the evidence ledger workflow may write to the chain; run `drctl evidence verify` to see what is there',
    );
  }
  if (writer.headHint) writer.headHint.sequence = sequence;
  await indexManifest(store, layout, sequence, content.run, lock, writer.headHint);
  return { sequence, manifestKey, manifestSha256, alreadyWritten: false };
}
