import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { reviewedRunbookIn } from '../../activities/evidence/reviewed-runbook';
import { runbookSha256 } from '../../auth/sha256';
import { canonicalJson } from '../../auth/canonical-json';
import { findRunbook } from '../../runbooks/catalog';

/**
 * A run starts from a catalog reference ({id, sha256}); the runbook that ran enters history only as the result
 * of `loadReviewedRunbook`. The evidence bundle's runbook.json must be that runbook (it used to be the reference).
 */

const converter = loadDataConverter();
const { runbook } = findRunbook('ehr-db');
const sha256 = runbookSha256(runbook);

/** Events as fetchHistory gives them (ids as Long), from plain objects. */
function event(plain: Record<string, unknown>): temporal.api.history.v1.IHistoryEvent {
  return temporal.api.history.v1.HistoryEvent.fromObject(plain);
}
function scheduled(eventId: number, name: string): temporal.api.history.v1.IHistoryEvent {
  return event({ eventId, activityTaskScheduledEventAttributes: { activityType: { name } } });
}
function completed(
  eventId: number,
  scheduledEventId: number,
  value: unknown,
): temporal.api.history.v1.IHistoryEvent {
  return event({
    eventId,
    activityTaskCompletedEventAttributes: {
      scheduledEventId,
      result: { payloads: [defaultPayloadConverter.toPayload(value)] },
    },
  });
}

describe('the runbook a run ran, from its history', () => {
  const input = { runbook: { id: 'ehr-db', sha256 }, start: {} };
  const history: temporal.api.history.v1.IHistoryEvent[] = [
    event({
      eventId: 1,
      workflowExecutionStartedEventAttributes: {
        input: { payloads: [defaultPayloadConverter.toPayload(input)] },
      },
    }),
    scheduled(5, 'loadAccessPolicy'),
    completed(7, 5, { sha256: 'f'.repeat(64) }),
    scheduled(11, 'loadReviewedRunbook'),
    completed(13, 11, { runbook, sha256, source: '/srv/drctl/runbooks/ehr-db.ts' }),
  ];

  it('GIVEN a run that loaded its reviewed runbook THEN that runbook is found, and its canonical JSON hashes to runbookHash', async () => {
    const reviewed = await reviewedRunbookIn(history, converter);
    expect(reviewed?.runbook).toEqual(runbook);
    expect(reviewed?.sha256).toBe(sha256);
    expect(runbookSha256(JSON.parse(canonicalJson(reviewed?.runbook)))).toBe(sha256);
    expect(reviewed?.runbook.steps.length).toBeGreaterThan(0);
  });

  it('GIVEN a run refused before the catalog answered THEN there is none', async () => {
    expect(await reviewedRunbookIn(history.slice(0, 4), converter)).toBeUndefined();
  });

  it('GIVEN a recorded run that read its runbook as a local activity THEN the runbook comes from the marker', async () => {
    const recorded = historyFromJSON(
      JSON.parse(readFileSync(join(__dirname, '../fixtures/histories/failover-complete.json'), 'utf8')),
    );
    const reviewed = await reviewedRunbookIn(recorded.events ?? [], converter);
    expect(reviewed?.runbook.id).toBe('replay-complete');
    expect(reviewed?.sha256).toBe(runbookSha256(reviewed?.runbook));
  });
});
