import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { forwardAnswer, undeliveredAborts } from '../../evacuations/abort-forward';
import { createEvacuationActivities } from '../../evacuations/evacuation-activities';
import type { EvacuationProgress } from '../../evacuations/evacuation-types';
import { UpdateRefusal } from '../../common/update-refusals';
import type { SignedOperatorUpdate } from '../../workflows/operator-decision';

/**
 * An evacuation forwarding its abort to a failover (`abortRun`), over a fake Temporal that keeps runs under one
 * workflow id, each with its status and its own answer to an `abort` update. As Temporal does, an update whose id
 * a run already completed gets that first outcome again, and a validator's refusal leaves no trace.
 */
interface FakeRun {
  status: string;
  /** The run's validator: a refusal, or undefined to take the abort. */
  refuse?: () => ApplicationFailure | undefined;
  /** The first time it takes an abort, the answer is lost on its way back (a timeout in transit). */
  losesFirstAnswer?: boolean;
}

function fakeTemporal(runs: Record<string, FakeRun>, latest: string) {
  const completed = new Map<string, Set<string>>();
  const aborted = new Set<string>();
  const temporal = {
    workflow: {
      getHandle: (_workflowId: string, runId?: string) => {
        const id = runId ?? latest;
        const run = runs[id]!;
        return {
          describe: async () => ({ status: { name: run.status } }),
          executeUpdate: async (_name: string, options: { updateId?: string }) => {
            // The SDK gives an update without an id a random one.
            const updateId = options.updateId ?? randomUUID();
            const done = completed.get(id) ?? new Set<string>();
            completed.set(id, done);
            if (done.has(updateId)) return { accepted: true };
            const refusal = aborted.has(id)
              ? ApplicationFailure.nonRetryable(
                  'an abort is already under way (by bob)',
                  UpdateRefusal.AbortUnderWay,
                )
              : run.refuse?.();
            if (refusal) throw new WorkflowUpdateFailedError('Workflow Update failed', refusal);
            aborted.add(id);
            done.add(updateId);
            if (run.losesFirstAnswer) {
              run.losesFirstAnswer = false;
              throw new Error('4 DEADLINE_EXCEEDED: the answer was lost');
            }
            return { accepted: true };
          },
        };
      },
    },
  } as unknown as Client;
  return { temporal, aborted };
}

const update = {
  signed: { statement: { nonce: 'ab'.repeat(16) } },
} as unknown as SignedOperatorUpdate;
const forward = (temporal: Client, runId?: string) =>
  createEvacuationActivities(temporal).abortRun({ workflowId: 'failover-ehr-db', runId, update });

test('GIVEN a running failover WHEN the abort is forwarded THEN it is accepted and the run is aborting', async () => {
  const { temporal, aborted } = fakeTemporal({ r1: { status: 'RUNNING' } }, 'r1');
  await expect(forward(temporal, 'r1')).resolves.toEqual({ outcome: 'accepted' });
  expect([...aborted]).toEqual(['r1']);
});

test('GIVEN the evacuation’s failover ended and a failback now holds the id WHEN the abort is forwarded THEN it goes to the evacuation’s run, which had ended, not to the failback (before: the run holding the id got it)', async () => {
  const { temporal, aborted } = fakeTemporal(
    { r1: { status: 'COMPLETED' }, failback: { status: 'RUNNING' } },
    'failback',
  );
  await expect(forward(temporal, 'r1')).resolves.toEqual({
    outcome: 'ended',
    detail: 'it had ended (completed)',
  });
  expect([...aborted]).toEqual([]);
});

test('GIVEN a failover whose abort was taken but whose answer was lost WHEN the activity tries again THEN the answer is accepted (one update id per abort), not "an abort is already under way"', async () => {
  const { temporal } = fakeTemporal({ r1: { status: 'RUNNING', losesFirstAnswer: true } }, 'r1');
  await expect(forward(temporal, 'r1')).rejects.toThrow('DEADLINE_EXCEEDED');
  await expect(forward(temporal, 'r1')).resolves.toEqual({ outcome: 'accepted' });
});

test.each([
  [
    'its steps are over (it is closing)',
    ApplicationFailure.nonRetryable('the run has already ended (succeeded)', UpdateRefusal.RunEnded),
    { outcome: 'ended', detail: 'the run has already ended (succeeded)' },
  ],
  [
    'an operator’s own abort is under way',
    ApplicationFailure.nonRetryable('an abort is already under way (by carol)', UpdateRefusal.AbortUnderWay),
    { outcome: 'aborting', detail: 'an abort is already under way (by carol)' },
  ],
  [
    'its signer may not abort that runbook',
    ApplicationFailure.nonRetryable('bob may not abort ehr-db', 'NotAuthorized'),
    { outcome: 'refused', detail: 'bob may not abort ehr-db' },
  ],
])(
  'GIVEN a failover that refuses the abort because %s WHEN it is forwarded THEN the answer says so (before: every refusal was "refused", shown as "it went on")',
  async (_why, refusal, answer) => {
    const { temporal } = fakeTemporal({ r1: { status: 'RUNNING', refuse: () => refusal } }, 'r1');
    await expect(forward(temporal, 'r1')).resolves.toEqual(answer);
  },
);

test('GIVEN a failover still verifying its start WHEN the abort is forwarded THEN it is asked again until it takes it (before: recorded as refused, never sent again, and the failover ran to its end)', async () => {
  let verifying = 3;
  const { temporal, aborted } = fakeTemporal(
    {
      r1: {
        status: 'RUNNING',
        refuse: () =>
          verifying-- > 0
            ? ApplicationFailure.nonRetryable(
                'the run is still verifying its start',
                UpdateRefusal.StartBeingVerified,
              )
            : undefined,
      },
    },
    'r1',
  );
  await expect(forward(temporal, 'r1')).resolves.toEqual({ outcome: 'accepted' });
  expect([...aborted]).toEqual(['r1']);
});

test('GIVEN Temporal does not answer WHEN the abort is forwarded THEN the activity fails, to be retried', async () => {
  const temporal = {
    workflow: {
      getHandle: () => ({
        describe: async () => {
          throw new Error('14 UNAVAILABLE: connection refused');
        },
      }),
    },
  } as unknown as Client;
  await expect(forward(temporal, 'r1')).rejects.toThrow('UNAVAILABLE');
});

test('GIVEN answers in words from a worker before the structured answer WHEN read from history THEN each maps to its outcome', () => {
  expect(forwardAnswer('failover-ehr-db: abort accepted')).toEqual({ outcome: 'accepted' });
  expect(forwardAnswer('failover-ehr-db had already ended')).toEqual({ outcome: 'ended' });
  expect(forwardAnswer('failover-ehr-db: abort not accepted (no)')).toEqual({
    outcome: 'refused',
    detail: 'failover-ehr-db: abort not accepted (no)',
  });
  expect(forwardAnswer({ outcome: 'aborting', detail: 'by carol' })).toEqual({
    outcome: 'aborting',
    detail: 'by carol',
  });
});

test('GIVEN forwards of every outcome WHEN the undelivered ones are asked for THEN only a refused or unconfirmed one whose service did not end aborted is', () => {
  const service = (runbookId: string, state: 'running' | 'aborted') => ({
    runbookId,
    wave: 'w',
    dependsOn: [],
    state,
    workflowId: `failover-${runbookId}`,
    currentSteps: [],
    stepsDone: 0,
    totalSteps: 1,
  });
  const progress = {
    services: [
      service('a', 'running'),
      service('b', 'running'),
      service('c', 'aborted'),
      service('d', 'running'),
    ],
    abortForwards: [
      { runbookId: 'a', workflowId: 'failover-a', outcome: 'refused', detail: 'no' },
      { runbookId: 'b', workflowId: 'failover-b', outcome: 'not-sent', detail: 'UNAVAILABLE' },
      { runbookId: 'c', workflowId: 'failover-c', outcome: 'not-sent', detail: 'answer lost' },
      { runbookId: 'd', workflowId: 'failover-d', outcome: 'aborting' },
    ],
  } as unknown as EvacuationProgress;
  expect(undeliveredAborts(progress).map((f) => f.runbookId)).toEqual(['a', 'b']);
});
