import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { LEDGER_WORKFLOW_ID } from '../../evidence/ledger-protocol';
import { resetStack } from '../../sandbox/stack';
import { getStack } from './stack';

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
