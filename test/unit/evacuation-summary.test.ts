import { evacuationSummary, evacuationTable } from '../../cli/render-evacuation';
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

test('GIVEN an evacuation whose abort a failover refused and another never confirmed WHEN it ends THEN its summary and table say so for each, with how to stop it, made terminal-safe; an accepted one, one that came after its failover ended, or one to a run already aborting adds nothing', () => {
  const progress: EvacuationProgress = {
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
        detail: 'it had ended (completed)',
      },
      { runbookId: 'lis-db', workflowId: 'failover-lis-db', outcome: 'aborting', detail: 'by carol' },
    ],
  };
  const expected = [
    `  ⚠ ehr-db's failover refused the evacuation's abort (past its point \\x1b[2J) and went on: see drctl status failover-ehr-db; to stop it, drctl abort failover-ehr-db --reason "…"`,
    `  ⚠ the evacuation's abort was not confirmed delivered to lab-db's failover (UNAVAILABLE), which may have gone on: see drctl status failover-lab-db; to stop it, drctl abort failover-lab-db --reason "…"`,
  ];
  expect(
    evacuationSummary(progress)
      .split('\n')
      .filter((line) => line.includes('⚠')),
  ).toEqual(expected);
  expect(evacuationTable(progress).filter((line) => line.includes('⚠'))).toEqual(expected);
});
