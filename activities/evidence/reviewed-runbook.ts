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

/** The result of the first completed activity of this type in a history. */
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
  const completed = events.find((event) => {
    const attributes = event.activityTaskCompletedEventAttributes;
    return attributes != null && scheduled.has(String(attributes.scheduledEventId));
  });
  const payloads = completed?.activityTaskCompletedEventAttributes?.result?.payloads;
  if (!payloads) return undefined;
  return decodeFromPayloadsAtIndex<T>(converter, 0, payloads);
}
