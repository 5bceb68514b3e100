import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { readRun, startFailover } from '../../cli/failover-runs';
import ehrDb from '../../runbooks/examples/ehr-db';
import type { Runbook } from '../../runbooks/schema';
import { startFaultProxy, type FaultProxy } from '../../sandbox/fault-proxy';
import { rebuildPrimaryAsReplica, resetStack, restartTemporal } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverProgress, FailoverResult } from '../../workflows/run-types';
import { catalogDir, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { addToCatalog, signerOf } from './operators';
import { sandboxDataConverter } from './sandbox-data-converter';
import { sql, walTimeline } from './estate-readers';

/**
 * Crash safety on the real stack: the worker is killed with SIGKILL in the middle of each mutating step (and
 * the Temporal server is restarted mid-run); a new worker finishes the run, and every effect happened exactly
 * once, counted at the servers: Route 53 change batches at a proxy in front of moto, flag enable events in
 * Unleash's event log, promotions in the new primary's WAL timeline, probe rows in the database.
 */
let stack: StackInfo;
let proxy: FaultProxy;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  stack = await resetStack();
  proxy = await startFaultProxy({ target: stack.moto.endpoint, faultRate: 0, faults: [] });
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as { aws: { endpoint: string } };
  config.aws.endpoint = proxy.url;
  const file = join(mkdtempSync(join(tmpdir(), 'drctl-crash-')), 'drctl.config.json');
  writeFileSync(file, JSON.stringify(config));
  env = { ...drctlEnv(stack, `crash-${randomUUID()}`), DRCTL_CONFIG: file };
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection, namespace: stack.temporal.namespace, ...sandboxDataConverter(stack) });
});

afterAll(async () => {
  await stopProcess(worker);
  await connection?.close();
  await proxy?.close();
  await resetStack();
});

/** Enable events Unleash recorded for `flag` since `since`: one per real change of its state. */
async function enableEvents(flag: string, since: number): Promise<number> {
  const response = await fetch(`${stack.unleash.url}/api/admin/events/${flag}`, {
    headers: { Authorization: stack.unleash.adminToken },
  });
  const { events } = (await response.json()) as { events: Array<{ type: string; createdAt: string }> };
  return events.filter((e) => e.type === 'feature-environment-enabled' && Date.parse(e.createdAt) >= since)
    .length;
}

async function progressOf(workflowId: string): Promise<FailoverProgress | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).query<FailoverProgress>('progress');
  } catch {
    return undefined;
  }
}

async function result(workflowId: string): Promise<FailoverResult> {
  for (;;) {
    const state = await readRun(client, workflowId);
    if (state.closed && state.result) return state.result;
    if (state.closed) throw new Error(`${workflowId} ended without a result: ${state.message}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Adds the runbook to the worker's reviewed catalog (as a reviewer would), then starts it signed by alice. */
async function start(runbook: Runbook, variant?: 'failback'): Promise<string> {
  return startFailover(
    client,
    env.DRCTL_TASK_QUEUE as string,
    addToCatalog(catalogDir(env), runbook, variant),
    {
      reason: 'crash test',
      signer: signerOf('alice'),
      now: new Date(),
    },
  );
}

/**
 * SIGKILLs the worker at a kill point: `mid` as soon as `stepId` is running (or, if it was too quick to
 * catch, has finished), `after` as soon as it has succeeded: the boundary before the next step.
 */
async function killAt(
  workflowId: string,
  stepId: string,
  moment: 'mid' | 'after',
): Promise<'mid-step' | 'after-step'> {
  for (;;) {
    const entry = (await progressOf(workflowId))?.timeline.find((e) => e.stepId === stepId);
    const caught =
      moment === 'mid'
        ? entry?.status === 'running' || entry?.status === 'succeeded'
        : entry?.status === 'succeeded';
    if (caught) {
      await stopProcess(worker, 'SIGKILL');
      return entry?.status === 'running' ? 'mid-step' : 'after-step';
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const MUTATING_STEPS = ['degraded-mode-on', 'fence-primary', 'promote-replica', 'switch-dns'];
const KILL_POINTS = MUTATING_STEPS.flatMap((stepId) => [
  { stepId, moment: 'mid' as const },
  { stepId, moment: 'after' as const },
]);

test.each(KILL_POINTS)(
  'SIGKILL of the worker $moment $stepId: a new worker completes the run, each effect once',
  async ({ stepId, moment }) => {
    await stopProcess(worker);
    stack = await resetStack();
    worker = await startWorkerProcess(env);
    const before = { ...proxy.stats().effects };
    const since = Date.now();
    // The replica continues the primary's WAL timeline; a promotion starts the next one.
    const timelineBefore = await walTimeline(stack.postgres.primaryUrl);

    const workflowId = await start({ ...ehrDb, id: `ehr-db-kill-${moment}-${stepId}` });
    const when = await killAt(workflowId, stepId, moment);
    worker = await startWorkerProcess(env);
    const done = await result(workflowId);

    expect(done.timeline.filter((e) => e.error).map((e) => `${e.stepId}: ${e.error?.message}`)).toEqual([]);
    expect(done.status).toBe('succeeded');
    expect(new Set(done.timeline.map((e) => e.stepId)).size).toBe(done.timeline.length);
    expect(
      (proxy.stats().effects.ChangeResourceRecordSets ?? 0) - (before.ChangeResourceRecordSets ?? 0),
    ).toBe(1);
    expect(await enableEvents('ehr-degraded-mode', since)).toBe(1);
    expect(await enableEvents('ehr-read-only-banner', since)).toBe(1);
    expect(await walTimeline(stack.postgres.replicaUrl)).toBe(timelineBefore + 1);
    const probes = await sql<{ n: string }>(
      stack.postgres.replicaUrl,
      "select count(*) as n from drctl_probe where run_id like $1 || '/%'",
      [workflowId],
    );
    expect(Number(probes[0]?.n)).toBe(1);
    const killed = done.timeline.find((e) => e.stepId === stepId);
    // Killed mid-step, the attempt died with the worker and the new worker's attempt did the work (or found it
    // done); killed after the step, it is not run again. Never more than one extra attempt.
    if (when === 'mid-step') expect([1, 2]).toContain(killed?.attempts);
    else expect(killed?.attempts).toBe(1);
    process.stdout.write(
      `kill ${moment} ${stepId}: ${when}, attempts ${killed?.attempts}, changed ${killed?.changed}\n`,
    );
  },
);

test('the Temporal server restarted mid-run: the run completes, each effect once', async () => {
  stack = await resetStack();
  await stopProcess(worker);
  worker = await startWorkerProcess(env);
  const before = { ...proxy.stats().effects };
  const steps = [...ehrDb.steps];
  steps.splice(steps.findIndex((s) => s.id === 'promote-replica') + 1, 0, {
    id: 'hold',
    kind: 'wait',
    duration: '4s',
    timeout: '5m',
    retry: { maximumAttempts: 1, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1s' },
    onFailure: 'abort',
  });
  const workflowId = await start({ ...ehrDb, id: 'ehr-db-temporal-restart', steps });
  for (;;) {
    const progress = await progressOf(workflowId);
    if (progress?.timeline.some((e) => e.stepId === 'hold' && e.status === 'running')) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await restartTemporal();
  await connection.close();
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection, namespace: stack.temporal.namespace, ...sandboxDataConverter(stack) });

  const done = await result(workflowId);
  expect(done.status).toBe('succeeded');
  expect(done.timeline.find((e) => e.stepId === 'promote-replica')).toMatchObject({
    attempts: 1,
    changed: true,
  });
  expect((proxy.stats().effects.ChangeResourceRecordSets ?? 0) - (before.ChangeResourceRecordSets ?? 0)).toBe(
    1,
  );
});

test('failback returns to the original topology after the old primary is rebuilt as a replica', async () => {
  stack = await resetStack();
  await stopProcess(worker);
  worker = await startWorkerProcess(env);
  const failover = await result(await start({ ...ehrDb, id: 'ehr-db-before-failback' }));
  expect(failover.timeline.filter((e) => e.error).map((e) => `${e.stepId}: ${e.error?.message}`)).toEqual([]);

  await rebuildPrimaryAsReplica();
  const back = await result(await start(ehrDb, 'failback'));
  expect(back.timeline.filter((e) => e.error).map((e) => `${e.stepId}: ${e.error?.message}`)).toEqual([]);

  const [original] = await sql<{ recovering: boolean }>(
    stack.postgres.primaryUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(original?.recovering).toBe(false);
  await sql(stack.postgres.primaryUrl, "insert into drctl_probe(run_id) values ('after-failback')");
  const [former] = await sql<Record<string, string>>(
    stack.postgres.replicaUrl,
    'show default_transaction_read_only',
  );
  expect(Object.values(former!)[0]).toBe('on');
  const probe = back.timeline.find((e) => e.stepId === 'probe-writes');
  expect(probe?.summary).toContain('127.0.0.2');
  const flags = back.timeline.find((e) => e.kind === 'flags.set');
  expect(flags?.summary).toMatch(/off/);
});
