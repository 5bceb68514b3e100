import type { EvacuationProgress } from '../../evacuations/evacuation-types';
import {
  renderEvacuationJunit,
  renderEvacuationMarkdown,
  renderEvacuationReport,
} from '../../reports/render-evacuation';

/** An evacuation's report is a view of its recorded result: every service's outcome, time and who acted. */
const result: EvacuationProgress = {
  workflowId: 'evacuation-us-east-1-20261128-050000',
  evacuationId: 'us-east-1',
  title: 'Evacuate us-east-1',
  status: 'failed',
  reason: 'INC-1 <script>alert(1)</script>',
  initiator: 'alice',
  startedAt: '2026-11-28T05:00:00.000Z',
  endedAt: '2026-11-28T05:01:30.000Z',
  waves: [{ id: 'databases', state: 'settled', concurrency: 2, approvedBy: 'bob' }],
  services: [
    {
      runbookId: 'ehr-db',
      wave: 'databases',
      dependsOn: [],
      state: 'succeeded',
      workflowId: 'failover-ehr-db',
      runId: '0193c1d2-7c1e-7a3b-9f4e-2b8d6f0a1c55',
      startedAt: '2026-11-28T05:00:01.000Z',
      endedAt: '2026-11-28T05:00:31.000Z',
      currentSteps: [],
      stepsDone: 7,
      totalSteps: 7,
    },
    {
      runbookId: 'lab-db',
      wave: 'databases',
      dependsOn: [],
      state: 'failed',
      workflowId: 'failover-lab-db',
      startedAt: '2026-11-28T05:00:01.000Z',
      endedAt: '2026-11-28T05:00:11.000Z',
      currentSteps: [],
      stepsDone: 2,
      totalSteps: 5,
      detail: 'stopped at promote: "ReplicaNotFound" & gone',
    },
  ],
  operatorActions: [
    { action: 'start', operator: 'alice', reason: 'INC-1', at: '2026-11-28T05:00:00.000Z' },
    { action: 'approve', operator: 'bob', reason: 'ok', at: '2026-11-28T05:00:00.500Z', stepId: 'databases' },
  ],
  awaiting: [],
};

test('GIVEN a failed evacuation WHEN rendered as Markdown THEN each service has its outcome, steps, time and run, with text escaped', () => {
  const text = renderEvacuationMarkdown(result);
  expect(text).toContain('Outcome: **failed** in 1m30s');
  // One workflow id per runbook (its lock), so the run id tells which of its runs this evacuation's was.
  expect(text).toMatch(
    /\| ehr-db \| databases \| succeeded \| 7\/7 \| 30(\.0)?s \| `failover-ehr-db` run `0193c1d2-7c1e-7a3b-9f4e-2b8d6f0a1c55` \|/,
  );
  expect(text).toContain('`drctl status <failover run> --run-id <run id>`');
  expect(text).toMatch(/\| lab-db \| databases \| failed \| 2\/5 \| 10(\.0)?s \|/);
  expect(text).toContain('| databases | 2 | bob |');
  expect(text).not.toContain('<script>');
  expect(text).toContain('&lt;script&gt;');
});

test('GIVEN a failed evacuation WHEN rendered as JUnit THEN each service is a testcase and the failed one fails with its detail', () => {
  const xml = renderEvacuationJunit(result);
  expect(xml).toContain('tests="2" failures="1"');
  expect(xml).toContain('name="ehr-db" time="30.000"></testcase>');
  expect(xml).toContain(
    '<failure message="failed: stopped at promote: &quot;ReplicaNotFound&quot; &amp; gone" type="failed"/>',
  );
});

test('GIVEN an evacuation started past a NOT ready plan WHEN rendered as Markdown THEN the report says so, with the reason', () => {
  const forced: EvacuationProgress = {
    ...result,
    authorization: {
      policySha256: 'a'.repeat(64),
      runbookId: 'us-east-1',
      runbookHash: 'b'.repeat(64),
      forcedPastPlan: 'lab-db backup check is known stale',
      breakGlassUses: [],
    },
  };
  expect(renderEvacuationMarkdown(forced)).toContain(
    '- Started although its plan was NOT ready: lab-db backup check is known stale',
  );
  expect(renderEvacuationMarkdown(result)).not.toContain('NOT ready');
});

test('GIVEN an evacuation refused for a held lock WHEN rendered THEN its outcome is refused, with why, in Markdown and JSON', () => {
  const why = 'evacuation-us-east-1 refused, nothing started: lab-db is held by failover-lab-db';
  const text = renderEvacuationMarkdown(result, why);
  expect(text).toContain('Outcome: **refused** in 1m30s');
  expect(text).toContain(`- Refused: ${why}`);
  expect(JSON.parse(renderEvacuationReport(result, 'json', why))).toMatchObject({
    status: 'failed',
    outcome: 'refused',
    message: why,
  });
  expect(JSON.parse(renderEvacuationReport(result, 'json'))).not.toHaveProperty('outcome');
});

test('GIVEN an evacuation whose abort reached one failover and not another WHEN rendered as Markdown THEN the report lists each forward and its answer; without an abort it has no such section', () => {
  const text = renderEvacuationMarkdown({
    ...result,
    abortForwards: [
      { runbookId: 'ehr-db', workflowId: 'failover-ehr-db', outcome: 'accepted' },
      {
        runbookId: 'lab-db',
        workflowId: 'failover-lab-db',
        outcome: 'not-sent',
        detail: 'frontend | unavailable',
      },
    ],
  });
  expect(text).toContain('## The abort, forwarded to the failovers');
  expect(text).toContain('| ehr-db | `failover-ehr-db` | accepted |  |');
  expect(text).toContain(
    '| lab-db | `failover-lab-db` | not confirmed delivered (no answer through its retries) | frontend \\| unavailable |',
  );
  expect(renderEvacuationMarkdown(result)).not.toContain('forwarded');
});
