import type { temporal } from '@temporalio/proto';
import type { LoadedDataConverter } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
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
  const scheduled = new Set(
    events
      .filter(
        (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === LOAD_REVIEWED_RUNBOOK,
      )
      .map((event) => String(event.eventId)),
  );
  const completed = events.find((event) => {
    const attributes = event.activityTaskCompletedEventAttributes;
    return attributes != null && scheduled.has(String(attributes.scheduledEventId));
  });
  const payloads = completed?.activityTaskCompletedEventAttributes?.result?.payloads;
  if (!payloads) return undefined;
  return decodeFromPayloadsAtIndex<{ runbook: Runbook; sha256: string }>(converter, 0, payloads);
}
