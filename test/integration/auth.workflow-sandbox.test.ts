import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { signStatement } from '../../auth/io/native-ed25519';
import { installQuietRuntime } from './quiet-runtime';
import { getStack } from './stack';
import { operatorKeys, RUNBOOK_HASH, statement, testPolicy } from '../unit/auth-fixtures';

/**
 * The pure half of auth (@noble/curves Ed25519, the canonical statement, the policy rules) bundles into workflow
 * code with Temporal's bundler and runs inside the workflow sandbox on the real dev server.
 */
const keys = operatorKeys('alice', 'bob', 'carol', 'dave', 'glass');
let connection: Connection;
let workerConnection: NativeConnection;

beforeAll(async () => {
  installQuietRuntime();
  const { address } = getStack().temporal;
  connection = await Connection.connect({ address });
  workerConnection = await NativeConnection.connect({ address });
});

afterAll(async () => {
  await connection?.close();
  await workerConnection?.close();
});

test('a signature is verified inside the workflow sandbox, and a changed reason is refused there', async () => {
  const noop = () => undefined;
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows/verify-statement'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
  expect(bundle.code).toContain('ed25519');
  const taskQueue = `auth-sandbox-${randomUUID()}`;
  const worker = await Worker.create({ connection: workerConnection, taskQueue, workflowBundle: bundle });
  const client = new Client({ connection });
  const runId = 'failover-ehr-db-20261127-081500';
  const signed = signStatement(
    statement({ operator: 'bob', runId, at: new Date().toISOString() }),
    keys.bob.privateKey,
  );
  const expected = {
    actions: ['approve' as const],
    runId,
    runbookId: 'ehr-db',
    runbookHash: RUNBOOK_HASH,
  };
  const run = (value: unknown) =>
    client.workflow.execute('verifyStatementWorkflow', {
      taskQueue,
      workflowId: `auth-sandbox-${randomUUID()}`,
      args: [testPolicy(keys), value, expected],
    });
  const [good, changed] = await worker.runUntil(
    Promise.all([
      run(signed),
      run({ ...signed, statement: { ...signed.statement, reason: `${signed.statement.reason}!` } }),
    ]),
  );
  expect(good).toEqual({ owner: 'bob' });
  expect(changed.refused).toMatch(/bad signature/);
});
