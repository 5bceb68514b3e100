/**
 * Where a chain lives in the evidence bucket. One chain per Temporal namespace, under `<prefix><namespace>/`:
 * `manifests/0000000001.dsse.json` (sequence in the key, zero-padded so keys sort in chain order) and
 * `runs/<workflowId>/<runId>/<path>` for the bundle's files.
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
    return `${this.manifestsPrefix}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}${MANIFEST_SUFFIX}`;
  }

  /** The sequence a manifest key names, or undefined for any other key. */
  sequenceOf(key: string): number | undefined {
    if (!key.startsWith(this.manifestsPrefix) || !key.endsWith(MANIFEST_SUFFIX)) return undefined;
    const digits = key.slice(this.manifestsPrefix.length, -MANIFEST_SUFFIX.length);
    return /^\d+$/.test(digits) ? Number(digits) : undefined;
  }

  runPrefix(workflowId: string, runId: string): string {
    return `${this.root}runs/${encodeURIComponent(workflowId)}/${runId}/`;
  }

  fileKey(workflowId: string, runId: string, path: string): string {
    return `${this.runPrefix(workflowId, runId)}${path}`;
  }
}
