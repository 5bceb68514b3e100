import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { WORKFLOW_CODE } from '../../worker/workflow-bundle';
import { installQuietRuntime } from './quiet-runtime';
import { HELD_READS_FRESH_MS } from '../../workflows/held-reads';

/**
 * Runs can wait for days at a gate or a paused step, and a new worker replays their history with the workflow
 * code it has: every recorded history in test/fixtures/histories must replay with today's code, or a deploy
 * would break the runs in flight. Incompatible changes are guarded with `patched()`.
 */
const FIXTURES = join(__dirname, '../fixtures/histories');

const HOW_TO_FIX = [
  'A recorded workflow history no longer replays with the current workflow code: a run in flight with that',
  'history would fail on the next worker. Guard the change with patched() (see README "Replay safety") so old',
  'runs keep their path. Only if the break is deliberate and no such run can exist, re-record the fixtures:',
  '  npm run sandbox -- up && npm run record-histories',
].join('\n');

beforeAll(() => installQuietRuntime());

test('every recorded history replays with the current workflow code', async () => {
  const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
  expect(files.sort()).toEqual(
    expect.arrayContaining([
      'drill.json',
      'evacuation-failover-answer-in-its-own-task.json',
      'evacuation-first-wave-failover.json',
      'failback.json',
      'failover-aborted-with-rollback.json',
      'failover-complete.json',
      'failover-paused-then-retried.json',
    ]),
  );
  const failures = await replayFailures(
    files.map((name) => ({ name, json: JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as unknown })),
  );
  if (failures.length > 0) throw new Error(`${failures.join('\n')}\n\n${HOW_TO_FIX}`);
});

/** Replays histories (as their JSON files have them) with today's workflow code; one line per failure. */
async function replayFailures(recorded: Array<{ name: string; json: unknown }>): Promise<string[]> {
  // Replayed under the workflow id it ran with: signed statements name it, and the run checks that they do.
  const histories = recorded.map(({ name, json }) => {
    const history = historyFromJSON(json);
    const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId;
    if (!workflowId) throw new Error(`${name}: its first event names no workflow id; re-record the fixtures`);
    return { workflowId, history };
  });
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    {
      workflowsPath: WORKFLOW_CODE.workflowsPath,
      bundlerOptions: { preloadModules: WORKFLOW_CODE.preloadModules },
      replayName: 'recorded-histories',
    },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message.split('\n')[0]}`);
  }
  return failures;
}

/** The events of a recorded history, as the JSON file has them. */
function eventsOf(name: string): Array<Record<string, unknown> & { eventType: string; eventId: string }> {
  return (JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as { events: never[] }).events;
}

const isMarker = (event: Record<string, unknown>, name: string): boolean =>
  (event.markerRecordedEventAttributes as { markerName?: string } | undefined)?.markerName === name;

test('every history recorded since patches are decided at the start has each patch marker in its first workflow task', () => {
  const recent = readdirSync(FIXTURES).filter(
    (name) => name.endsWith('.json') && !name.startsWith('before-'),
  );
  expect(recent.length).toBeGreaterThan(10);
  for (const name of recent) {
    const events = eventsOf(name);
    const firstTask = events.find(
      (event) => event.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
    )?.eventId;
    const late = events
      .filter((event) => isMarker(event, 'core_patch'))
      .filter(
        (event) =>
          (event.markerRecordedEventAttributes as { workflowTaskCompletedEventId: string })
            .workflowTaskCompletedEventId !== firstTask,
      );
    expect(`${name}: ${late.length} patch marker(s) after the first workflow task`).toBe(
      `${name}: 0 patch marker(s) after the first workflow task`,
    );
  }
});

test("the recorded failover whose memo read's answer came in a workflow task of its own is such a history", () => {
  // Live, the task that recorded the answer completed and a new one was forced at once: nothing came between.
  const events = eventsOf('evacuation-failover-answer-in-its-own-task.json');
  const ownTask = events.some(
    (event, i) =>
      isMarker(event, 'core_local_activity') &&
      events[i + 1]?.eventType === 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
  );
  expect(ownTask).toBe(true);
});

test('a failover released after its held reads ended judges them fresh by the recorded time of the read that saw its release, not by the clock of the task that replays it', async () => {
  // Live, Temporal's core may hand a local activity's answer to the run in a workflow task of its own; a replay
  // hands it over in the task that recorded it, whose clock is earlier. Judged by the task's clock, reads near
  // the freshness limit could be kept live and dropped on replay (or the other way), and the run would no longer
  // replay. The read's own time is in its recorded answer: both judge alike.
  const name = 'evacuation-failover-released-after-its-reads.json';
  const json = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as {
    events: Array<Record<string, unknown>>;
  };
  const releaseRead = json.events.find(
    (event) =>
      isMarker(event, 'core_local_activity') &&
      decoded(event.markerRecordedEventAttributes as MarkerAttributes).includes('"release"'),
  )?.markerRecordedEventAttributes as MarkerAttributes | undefined;
  if (releaseRead === undefined) throw new Error(`${name}: no recorded read of a release; re-record it`);
  const answer = JSON.parse(decoded(releaseRead)) as { readAtMs: number };
  expect(answer.readAtMs).toEqual(expect.any(Number));
  expect(await replayFailures([{ name, json }])).toEqual([]);

  // The same history, had that read been made a minute later: the held reads were too old, and the run reads
  // again instead of fencing at once. A replay of it must not take the path the recorded run took.
  const payload = releaseRead.details.result.payloads[0]!;
  payload.data = Buffer.from(
    JSON.stringify({ ...answer, readAtMs: answer.readAtMs + HELD_READS_FRESH_MS + 60_000 }),
  ).toString('base64');
  expect(await replayFailures([{ name, json }])).toEqual([expect.stringMatching(/[Nn]ondeterminism/)]);
});

interface MarkerAttributes {
  markerName: string;
  details: { result: { payloads: Array<{ data: string }> } };
}

function decoded(marker: MarkerAttributes): string {
  const data = marker.details?.result?.payloads?.[0]?.data;
  return data === undefined ? '' : Buffer.from(data, 'base64').toString('utf8');
}
