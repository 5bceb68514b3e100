import type { temporal } from '@temporalio/proto';
import type { LoadedDataConverter } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { EvacuationCover } from '../../evacuations/evacuation-hash';
import type { Runbook } from '../../runbooks/schema';

/** The activity through which a run takes its runbook, by value, from the worker's reviewed catalog. */
const LOAD_REVIEWED_RUNBOOK = 'loadReviewedRunbook';

/**
 * The runbook a run ran, from its history: since runs start from a catalog reference (id and sha256), the
 * runbook itself enters history as the result of `loadReviewedRunbook`. Undefined when the run never loaded
 * one (refused before, or started before reviewed catalogs).
 */
export async function reviewedRunbookIn(
  events: readonly temporal.api.history.v1.IHistoryEvent[],
  converter: LoadedDataConverter,
): Promise<{ runbook: Runbook; sha256: string } | undefined> {
  return activityResultIn(events, converter, LOAD_REVIEWED_RUNBOOK);
}

/**
 * The evacuation a run (a drill of an evacuation) took from the worker's reviewed evacuations, as signed: the
 * plan and its runbooks' hashes, from the result of `loadReviewedEvacuation` in its history.
 */
export async function reviewedEvacuationIn(
  events: readonly temporal.api.history.v1.IHistoryEvent[],
  converter: LoadedDataConverter,
): Promise<{ cover: EvacuationCover; sha256: string } | undefined> {
  return activityResultIn(events, converter, 'loadReviewedEvacuation');
}

/** The marker Temporal records for a completed local activity: `data` names it, `result` holds what it returned. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/**
 * The result of the first completed activity of this type in a history, run as a regular activity (its completed
 * event) or as a local activity (its marker: runs since `patched('auth-reads-as-local-activities')`).
 */
async function activityResultIn<T>(
  events: readonly temporal.api.history.v1.IHistoryEvent[],
  converter: LoadedDataConverter,
  activityType: string,
): Promise<T | undefined> {
  const scheduled = new Set(
    events
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .map((event) => String(event.eventId)),
  );
  for (const event of events) {
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed != null && scheduled.has(String(completed.scheduledEventId))) {
      const payloads = completed.result?.payloads;
      return payloads ? decodeFromPayloadsAtIndex<T>(converter, 0, payloads) : undefined;
    }
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) continue;
    const data = marker.details?.data?.payloads;
    const result = marker.details?.result?.payloads;
    if (!data || !result) continue;
    const about = await decodeFromPayloadsAtIndex<{ activity_type?: string }>(converter, 0, data);
    if (about?.activity_type === activityType) return decodeFromPayloadsAtIndex<T>(converter, 0, result);
  }
  return undefined;
}
