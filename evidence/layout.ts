/**
 * Where a chain lives in the evidence bucket. One chain per Temporal namespace, under `<prefix><namespace>/`:
 * `manifests/0000000001.dsse.json` (sequence in the key, zero-padded so keys sort in chain order),
 * `runs/<workflowId>/<runId>/<path>` for the bundle's files, and the run index: `index/runs/<id>/<sequence>` (an
 * empty object per workflow id and run id a manifest names) and `index/from/<sequence>` (the first sequence
 * indexed).
 */
const SEQUENCE_DIGITS = 10;
const MANIFEST_SUFFIX = '.dsse.json';

export class ChainLayout {
  readonly root: string;

  constructor(prefix: string, namespace: string) {
    const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.root = `${base}${namespace}/`;
  }

  get manifestsPrefix(): string {
    return `${this.root}manifests/`;
  }

  manifestKey(sequence: number): string {
    return `${this.sequenceKey(this.manifestsPrefix, sequence)}${MANIFEST_SUFFIX}`;
  }

  /** The sequence a manifest key names, or undefined for any other key. */
  sequenceOf(key: string): number | undefined {
    if (!key.startsWith(this.manifestsPrefix) || !key.endsWith(MANIFEST_SUFFIX)) return undefined;
    return sequenceIn(key.slice(this.manifestsPrefix.length, -MANIFEST_SUFFIX.length));
  }

  /** The run index's entries for a workflow id or run id: one key per manifest that names it. */
  indexPrefix(id: string): string {
    return `${this.root}index/runs/${encodeURIComponent(id)}/`;
  }

  /** Where the index records the first sequence it covers. */
  get indexFromPrefix(): string {
    return `${this.root}index/from/`;
  }

  /** `<prefix><sequence>` as the index writes it (zero-padded, so keys sort in chain order). */
  sequenceKey(prefix: string, sequence: number): string {
    return `${prefix}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`;
  }

  /** The sequence a key written by `sequenceKey(prefix, …)` names, or undefined for any other key. */
  sequenceUnder(prefix: string, key: string): number | undefined {
    return key.startsWith(prefix) ? sequenceIn(key.slice(prefix.length)) : undefined;
  }

  runPrefix(workflowId: string, runId: string): string {
    return `${this.root}runs/${encodeURIComponent(workflowId)}/${runId}/`;
  }

  fileKey(workflowId: string, runId: string, path: string): string {
    return `${this.runPrefix(workflowId, runId)}${path}`;
  }
}

/**
 * Only the exact form the chain writes (10 digits): `00000000001.dsse.json` is not manifest 1, so a copy put
 * beside a manifest hidden by a delete marker is never taken for it.
 */
function sequenceIn(digits: string): number | undefined {
  return digits.length === SEQUENCE_DIGITS && /^\d+$/.test(digits) ? Number(digits) : undefined;
}
