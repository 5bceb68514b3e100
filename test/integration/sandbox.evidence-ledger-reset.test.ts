import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { LEDGER_WORKFLOW_ID } from '../../evidence/ledger-protocol';
import { resetStack } from '../../sandbox/stack';
import { drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { getStack } from './stack';

// A real failover through a worker process, on a busy 2-core machine.
jest.setTimeout(180_000);

/**
 * A sandbox reset empties moto: the KMS keys that encrypted the evidence ledger's history and the bucket holding
 * its chain are gone. A ledger left running could not decode its own history (its workflow tasks fail for good),
 * so every later run's evidence would wait forever; the reset ends it, and the next request starts a new one.
 */
test('GIVEN an evidence ledger running WHEN the sandbox resets moto THEN that ledger is terminated, saying why', async () => {
  const stack = getStack();
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({ connection, namespace: stack.temporal.namespace });
    // A ledger on a queue no worker polls stays running until something ends it (it replaces any ledger running).
    const ledger = await client.workflow.start('evidenceLedgerWorkflow', {
      workflowId: LEDGER_WORKFLOW_ID,
      taskQueue: `no-worker-${randomUUID()}`,
      args: [{}],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    expect((await ledger.describe()).status.name).toBe('RUNNING');

    await resetStack({ only: ['aws'] });

    const ended = client.workflow.getHandle(LEDGER_WORKFLOW_ID, ledger.firstExecutionRunId);
    expect((await ended.describe()).status.name).toBe('TERMINATED');
    const history = await ended.fetchHistory();
    const termination = history.events?.find((event) => event.workflowExecutionTerminatedEventAttributes);
    expect(termination?.workflowExecutionTerminatedEventAttributes?.reason).toMatch(
      /moto started empty, so the KMS keys and the evidence bucket of this ledger are gone/,
    );
  } finally {
    await connection.close();
  }
});

/**
 * A run asks for its bundle as its last act, so right after a failover ends the ledger is still writing it. A reset
 * that emptied moto under that write failed it ("evidence bucket drctl-evidence does not exist", in every bench log
 * that resets between runs); the reset now lets the ledger finish its work in flight before it ends the ledger and
 * empties moto.
 */
test('GIVEN a failover that just ended, its bundle being written WHEN the sandbox resets THEN the write completes before moto is emptied', async () => {
  const stack = await resetStack();
  const env = drctlEnv(stack, `reset-ledger-${randomUUID()}`);
  const worker = await startWorkerProcess(env);
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({ connection, namespace: stack.temporal.namespace });
    const failover = await drctl(
      ['failover', 'ehr-db', '--reason', 'reset right after a run', '--yes', '--follow', '--output', 'json'],
      env,
    );
    expect(failover.code).toBe(0);
    const { runId } = await client.workflow.getHandle(LEDGER_WORKFLOW_ID).describe();

    await resetStack();

    const history = await client.workflow.getHandle(LEDGER_WORKFLOW_ID, runId).fetchHistory();
    const writes = new Set(
      (history.events ?? [])
        .filter(
          (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'writeEvidenceBundle',
        )
        .map((event) => String(event.eventId)),
    );
    const outcomeOf = (scheduled: unknown) => writes.has(String(scheduled));
    const completed = (history.events ?? []).filter((event) =>
      outcomeOf(event.activityTaskCompletedEventAttributes?.scheduledEventId),
    );
    const failed = (history.events ?? []).flatMap((event) =>
      outcomeOf(event.activityTaskFailedEventAttributes?.scheduledEventId)
        ? [event.activityTaskFailedEventAttributes?.failure?.message]
        : [],
    );
    expect(failed).toEqual([]);
    expect(completed).toHaveLength(writes.size);
    expect(writes.size).toBeGreaterThanOrEqual(1);
  } finally {
    await connection.close();
    await stopProcess(worker);
    await resetStack();
  }
});
