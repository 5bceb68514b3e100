/** The manifest of one evidence bundle: what ran, where each file is and its SHA-256, and the link to the chain. */
import { createHash } from 'node:crypto';

export const MANIFEST_SCHEMA = 'drctl.evidence-manifest/v1';

/** `fence-follow-up`: how the fencing of an old primary a failover went on without ended. */
export type EvidenceRunKind = 'failover' | 'failback' | 'drill' | 'fence-follow-up';

export interface ManifestFile {
  /** Path inside the bundle, e.g. `history.json` or `reports/report.md`. */
  path: string;
  /**
   * Object key in the evidence bucket: `runs/<workflowId>/<runId>/<path>`, or, for a rendering whose path already
   * held other bytes, that path with the file's sha256 in its name. Read a file by this key, never by its path.
   */
  key: string;
  sha256: string;
  bytes: number;
  contentType: string;
}

export interface EvidenceRun {
  kind: EvidenceRunKind;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** Temporal's close status: COMPLETED, FAILED, TERMINATED, … */
  closeStatus: string;
  /** The run's own verdict: succeeded / failed / aborted (failover), passed / failed / called-off / refused (drill). */
  outcome: string;
  runbookId: string;
  /**
   * sha256 of `runbook.json` (the runbook as it ran, taken from the workflow's input in history); for a drill of an
   * evacuation, `runbookId` is the evacuation's and this is the sha256 of `evacuation.json` (its signed hash).
   */
  runbookSha256: string;
  startedAt: string;
  closedAt: string;
  /** Child runs whose history is in this bundle (a drill's failover). */
  children: Array<{ workflowId: string; runId: string; workflowType: string; closeStatus: string }>;
}

export interface ManifestRetention {
  mode: 'COMPLIANCE';
  /** Every object of the bundle (and this manifest) is locked at least until then. */
  retainUntil: string;
  /** The policy: retainUntil ≥ createdAt + this many years (45 CFR 164.316(b)(2): six). */
  minimumYears: number;
}

export interface EvidenceManifest {
  schema: typeof MANIFEST_SCHEMA;
  /** 1 for the first bundle of a chain, then +1 each. */
  sequence: number;
  /** sha256 of the previous manifest object's bytes; null for sequence 1. */
  previousManifestSha256: string | null;
  namespace: string;
  createdAt: string;
  run: EvidenceRun;
  retention: ManifestRetention;
  files: ManifestFile[];
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A manifest's payload bytes: pretty JSON, so the decoded payload reads well in a terminal. */
export function manifestPayload(manifest: EvidenceManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

/** Reads a decoded payload as a manifest, or says what is wrong with it. */
export function parseManifest(payload: Buffer): EvidenceManifest | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return { error: `payload is not JSON (${(error as Error).message})` };
  }
  const manifest = parsed as Partial<EvidenceManifest> | null;
  if (manifest === null || typeof manifest !== 'object' || manifest.schema !== MANIFEST_SCHEMA) {
    return { error: `payload is not a ${MANIFEST_SCHEMA} manifest` };
  }
  if (
    typeof manifest.sequence !== 'number' ||
    !Array.isArray(manifest.files) ||
    typeof manifest.createdAt !== 'string' ||
    typeof manifest.retention?.retainUntil !== 'string' ||
    typeof manifest.run?.workflowId !== 'string'
  ) {
    return { error: 'manifest lacks sequence, files, createdAt, retention or run' };
  }
  return manifest as EvidenceManifest;
}
