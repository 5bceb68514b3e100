import { evacuationSummary } from '../../cli/render-evacuation';
import type { EvacuationProgress } from '../../evacuations/evacuation-types';

const ended: EvacuationProgress = {
  workflowId: 'evacuation-us-east-1-20261201-030000',
  evacuationId: 'us-east-1',
  title: 'Evacuate us-east-1',
  status: 'succeeded',
  reason: 'INC-4411',
  initiator: 'alice',
  startedAt: '2026-12-01T03:00:00.000Z',
  endedAt: '2026-12-01T03:02:00.000Z',
  waves: [{ id: 'databases', state: 'settled', concurrency: 2, approvedBy: 'breakglass-1' }],
  services: [
    {
      runbookId: 'ehr-db',
      wave: 'databases',
      dependsOn: [],
      state: 'succeeded',
      workflowId: 'failover-ehr-db',
      startedAt: '2026-12-01T03:00:31.000Z',
      endedAt: '2026-12-01T03:01:31.000Z',
      currentSteps: [],
      stepsDone: 7,
      totalSteps: 7,
    },
    {
      runbookId: 'lab-db',
      wave: 'databases',
      dependsOn: [],
      state: 'skipped',
      currentSteps: [],
      stepsDone: 0,
      totalSteps: 5,
      detail: 'not started: the evacuation was aborted by bob',
    },
  ],
  operatorActions: [],
  awaiting: [],
};

test('GIVEN an evacuation whose wave was approved with the break-glass key past a NOT ready plan WHEN it ends THEN its summary says both, with their reasons made terminal-safe', () => {
  const summary = evacuationSummary({
    ...ended,
    authorization: {
      policySha256: 'a'.repeat(64),
      runbookId: 'us-east-1',
      runbookHash: 'b'.repeat(64),
      forcedPastPlan: 'lab-db backups known stale',
      breakGlassUses: [
        {
          action: 'approve',
          stepId: 'databases',
          keyId: 'breakglass-1',
          holder: 'security-office',
          at: '2026-12-01T03:00:30.000Z',
          reason: 'approvers unreachable \u001b[2J',
        },
      ],
    },
  }).split('\n');
  expect(summary).toEqual([
    'evacuation-us-east-1-20261201-030000: evacuation us-east-1 succeeded in 2m: 1 succeeded, 1 skipped (by alice, reason: INC-4411)',
    '‼ started although its plan was NOT ready: lab-db backups known stale',
    '‼ BREAK-GLASS approve databases by breakglass-1 (held by security-office) at 2026-12-01T03:00:30.000Z: approvers unreachable \\x1b[2J',
    '  ⤼ lab-db: skipped — not started: the evacuation was aborted by bob',
  ]);
});

test('GIVEN an evacuation started and approved as usual WHEN it ends THEN its summary has no authorization line', () => {
  expect(
    evacuationSummary(ended)
      .split('\n')
      .filter((line) => line.startsWith('‼')),
  ).toEqual([]);
});

test('GIVEN an evacuation whose abort a failover refused and another never got WHEN it ends THEN its summary says so for each, made terminal-safe; an accepted one or one that came after its failover ended adds nothing', () => {
  const summary = evacuationSummary({
    ...ended,
    abortForwards: [
      {
        runbookId: 'ehr-db',
        workflowId: 'failover-ehr-db',
        outcome: 'refused',
        detail: 'past its point \u001b[2J',
      },
      { runbookId: 'lab-db', workflowId: 'failover-lab-db', outcome: 'not-sent', detail: 'UNAVAILABLE' },
      { runbookId: 'rx-db', workflowId: 'failover-rx-db', outcome: 'accepted' },
      {
        runbookId: 'pacs-db',
        workflowId: 'failover-pacs-db',
        outcome: 'ended',
        detail: 'it had ended completed',
      },
    ],
  })
    .split('\n')
    .filter((line) => line.includes('abort did not'));
  expect(summary).toEqual([
    '  ⚠ the abort did not reach ehr-db: the failover refused it (past its point \\x1b[2J); it went on (drctl status failover-ehr-db)',
    '  ⚠ the abort did not reach lab-db: Temporal did not take it (UNAVAILABLE); it went on (drctl status failover-lab-db)',
  ]);
});
