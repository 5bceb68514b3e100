import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { WORKFLOW_CODE } from '../../worker/workflow-bundle';
import { installQuietRuntime } from './quiet-runtime';

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
  // Replayed under the workflow id it ran with: signed statements name it, and the run checks that they do.
  const histories = files.map((name) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')));
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
  if (failures.length > 0) throw new Error(`${failures.join('\n')}\n\n${HOW_TO_FIX}`);
});

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
