import { Connection, WorkflowClient } from '@temporalio/client';
import { sandboxDataConverter } from './sandbox-data-converter';
import { getStack } from './stack';

/**
 * Before each test file: ends the runs earlier files left open on the shared sandbox. A test that fails midway
 * leaves its run waiting (for an approval, a decision) under its runbook's lock id (`failover-<runbook>`), and every
 * later test of that runbook would then be refused by the lock: one failure would fail every file after it.
 * (A setup file's afterAll would run before the test file's own, so the cleanup is at the next file's start.)
 * The namespace's evidence ledger is not a test's run and stays.
 */
const RUN_TYPES = [
  'failoverWorkflow',
  'drillWorkflow',
  'evacuationWorkflow',
  'evacuationDrillWorkflow',
  'fenceFollowUpWorkflow',
  'planWorkflow',
];

beforeAll(async () => {
  let connection: Connection | undefined;
  try {
    const stack = getStack();
    connection = await Connection.connect({ address: stack.temporal.address });
    // With the sandbox's codec: a listed run's memo (a parent's recorded releases) is encrypted like its payloads.
    const client = new WorkflowClient({
      connection,
      namespace: stack.temporal.namespace,
      ...sandboxDataConverter(stack),
    });
    const types = RUN_TYPES.map((type) => `'${type}'`).join(', ');
    const ended: string[] = [];
    for await (const run of client.list({
      query: `ExecutionStatus = 'Running' AND WorkflowType IN (${types})`,
    })) {
      await client
        .getHandle(run.workflowId, run.runId)
        .terminate('left open by an earlier test file')
        .then(() => ended.push(run.workflowId))
        .catch(() => undefined);
    }
    if (ended.length > 0) {
      process.stderr.write(`[end-open-runs] ended ${ended.length} run(s) left open: ${ended.join(', ')}\n`);
    }
  } finally {
    await connection?.close();
  }
});
