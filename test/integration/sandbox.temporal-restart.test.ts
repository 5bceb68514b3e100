import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { Client, Connection } from '@temporalio/client';
import { runningPid } from '../../sandbox/detached-process';
import { sandboxPaths } from '../../sandbox/sandbox-paths';
import { restartTemporal } from '../../sandbox/stack';
import { TEMPORAL_PROCESS } from '../../sandbox/temporal-server';
import { getStack } from './stack';

const stack = getStack();
let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection, namespace: stack.temporal.namespace });
});
afterAll(() => connection?.close());

describe('restartTemporal', () => {
  it('GIVEN a workflow started before WHEN the dev server restarts THEN it is a new process and the workflow is still there', async () => {
    // No worker polls this queue: the workflow stays Running with its first task pending, which is enough.
    const workflowId = `temporal-restart-${randomUUID()}`;
    const handle = await client.workflow.start('sandboxRestartProbe', {
      workflowId,
      taskQueue: `temporal-restart-${randomUUID()}`,
      args: [],
    });
    const pidBefore = runningPid(TEMPORAL_PROCESS);

    await restartTemporal();

    const pidAfter = runningPid(TEMPORAL_PROCESS);
    expect(pidAfter).toBeDefined();
    expect(pidAfter).not.toBe(pidBefore);
    // The connection made before the restart reconnects by itself.
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description).toMatchObject({
      workflowId,
      runId: handle.firstExecutionRunId,
      status: { name: 'RUNNING' },
    });
    await handle.terminate('sandbox.temporal-restart test done');
  });

  it('GIVEN the dev server up THEN its SQLite file is in write-ahead-log mode', () => {
    // The rollback journal the dev server uses by default made every history write ~4x slower (sandbox/temporal-server.ts).
    // WAL mode is kept in the file itself, so a second reader sees it; read-only, beside the running server.
    const db = new DatabaseSync(sandboxPaths.temporalDb, { readOnly: true });
    try {
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    } finally {
      db.close();
    }
  });
});
