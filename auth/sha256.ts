import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { canonicalJson } from './canonical-json';

export function sha256OfBytes(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

export function sha256OfText(text: string): string {
  return sha256OfBytes(utf8ToBytes(text));
}

/**
 * The identity of a runbook as it runs (validated, defaults filled): sha256 of its canonical JSON. The client
 * signs the hash it planned against, the worker computes it over its reviewed copy, and a run goes ahead only
 * when they are equal.
 */
export function runbookSha256(runbook: unknown): string {
  return sha256OfText(canonicalJson(runbook));
}
