/** What the workflows and the auth activities exchange. Types only: workflow code imports this file. */
import type { LoadedPolicy } from '../../auth/access-policy';
import type { EvacuationCover } from '../../evacuations/evacuation-hash';
import type { Runbook } from '../../runbooks/schema';

export interface ReviewedRunbookRequest {
  runbookId: string;
  /** The sha256 the client planned against; the run is refused when the catalog's differs. */
  runbookHash: string;
  /** `failback`: the failback derived from the reviewed runbook (its hash is the base runbook's). */
  variant?: 'failback';
}

export interface ReviewedRunbookResult {
  /** The runbook that runs, by value: history pins it. */
  runbook: Runbook;
  /** sha256 of the reviewed (base) runbook, equal to the request's. */
  sha256: string;
  source: string;
}

export interface ReviewedEvacuationResult {
  /** The evacuation and its runbooks' hashes, as signed. */
  cover: EvacuationCover;
  /** Every runbook it runs, from the reviewed catalog, by id. */
  runbooks: Record<string, Runbook>;
  sha256: string;
  source: string;
}

export interface AuthActivities {
  /** The worker's access policy as it is now, with the sha256 of the file. */
  loadAccessPolicy(): Promise<LoadedPolicy>;
  /** A runbook of the worker's reviewed catalog by id, refused (RunbookMismatch) when the hash differs. */
  loadReviewedRunbook(request: ReviewedRunbookRequest): Promise<ReviewedRunbookResult>;
  /**
   * An evacuation of the worker's reviewed evacuations with every runbook from the reviewed catalog; refused
   * (RunbookMismatch) when the hash over both differs from the one the operator signed.
   */
  loadReviewedEvacuation(request: {
    evacuationId: string;
    sha256: string;
  }): Promise<ReviewedEvacuationResult>;
}
