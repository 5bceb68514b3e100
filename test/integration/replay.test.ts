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
