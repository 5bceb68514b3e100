import { canonicalJson } from '../auth/canonical-json';
import { sha256OfText } from '../auth/sha256';
import type { Evacuation } from './schema';

/** Which reviewed evacuation a client asks to run: its id and the sha256 it planned against. */
export interface EvacuationReference {
  id: string;
  sha256: string;
}

/**
 * An evacuation as it was signed: the plan and the sha256 of every runbook it runs. Its hash is what the operator
 * signs, so one signature covers the waves, the limits and each runbook's reviewed content. A child failover
 * receives it to show that its runbook is part of what was signed.
 */
export interface EvacuationCover {
  evacuation: Evacuation;
  runbookHashes: Record<string, string>;
}

/** sha256 of the canonical JSON of the evacuation and its runbooks' hashes. Pure: the workflows compute it too. */
export function evacuationSha256(cover: EvacuationCover): string {
  return sha256OfText(canonicalJson({ evacuation: cover.evacuation, runbookHashes: cover.runbookHashes }));
}
