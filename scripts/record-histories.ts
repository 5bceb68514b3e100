import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { StatementAction } from '../auth/permissions';
import { evacuationDrill, runbookDrill, startDrill } from '../cli/drill-runs';
import { startEvacuation } from '../cli/evacuation-runs';
import { referenceTo, startFailover, type StartedRun } from '../cli/failover-runs';
import { loadSigner, type OperatorSigner } from '../cli/operator-signer';
import { runLockId } from '../common/run-lock';
import { findEvacuation } from '../evacuations/catalog';
import type { EvacuationProgress } from '../evacuations/evacuation-types';
import { defineRunbook } from '../runbooks/define-runbook';
import ehrDb from '../runbooks/examples/ehr-db';
import { failbackRunbook } from '../runbooks/failback-runbook';
import type { Runbook, RunbookInput } from '../runbooks/schema';
import { startFaultProxy } from '../sandbox/fault-proxy';
import { operatorPaths, type DemoOperator } from '../sandbox/operator-seed';
import { ensureStackUp, killPostgresPrimary, rebuildPrimaryAsReplica, resetStack } from '../sandbox/stack';
import { loadConfig } from '../worker/config';
import { runWorker } from '../worker/run-worker';
import type { DrillResult } from '../workflows/drill-types';
import type { FailoverProgress } from '../workflows/run-types';

/**
 * Records the workflow histories the replay test (test/integration/replay.test.ts) replays against the current
 * workflow code: a complete failover, one whose fence is in a parallel group, one paused on a failed step and retried, one aborted with rollback, a
 * drill and its failover, a drill an operator called off during its warm-up, a failback, and one that went on unfenced with its fence follow-up, an evacuation whose second
 * wave waited for an approval with its first wave's failover (its pre-flight made while held), and the evacuation a
 * drill of it started, and a drill of it called off during its warm-up. Runs them on the local stack with a worker
 * of this checkout and writes `test/fixtures/histories/<name>.json`.
 *
 * Operators sign as the sandbox's demo operators; the runbook variants are written to a reviewed catalog folder
 * of this worker. The payload codec is off for these runs, so the fixtures replay without keys.
 *
 * Usage: npm run record-histories [-- <name>...]   (only the named histories, e.g. `evacuation`; the sandbox is
 * started if it is not up; its state is reset)
 */
const OUT = resolve(__dirname, '../test/fixtures/histories');
const CATALOG = resolve(__dirname, '../.sandbox/record-histories-catalog');
const signer = (name: DemoOperator): OperatorSigner => loadSigner(operatorPaths.keyFile(name));
const only = process.argv.slice(2);
/** Whether this run records the history `name` (every one when none is named). */
const wanted = (name: string): boolean => only.length === 0 || only.includes(name);

async function main(): Promise<void> {
  const stack = await ensureStackUp();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  const proxy = await startFaultProxy({ target: stack.moto.endpoint, faultRate: 0, faults: [] });
  const taskQueue = `record-histories-${randomUUID()}`;
  mkdirSync(CATALOG, { recursive: true });
  const base = loadConfig({ file: stack.configFile });
  const config = loadConfig({
    file: stack.configFile,
    overrides: {
      temporal: { taskQueue },
      aws: { endpoint: proxy.url },
      codec: { ...base.codec, enabled: false },
      access: { ...base.access, catalogDirs: [...base.access.catalogDirs, CATALOG] },
    },
  });
  const stopWorker = new AbortController();
  await new Promise<void>((onReady) => void runWorker(config, { signal: stopWorker.signal, onReady }));
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection, namespace: stack.temporal.namespace });
  mkdirSync(OUT, { recursive: true });
  const start = (runbook: Runbook, variant?: 'failback'): Promise<StartedRun> => {
    if (runbook.id !== ehrDb.id)
      writeFileSync(join(CATALOG, `${runbook.id}.json`), JSON.stringify(runbook, null, 2));
    return startFailover(
      client,
      taskQueue,
      {
        runbook: variant === 'failback' ? failbackRunbook(runbook) : runbook,
        reference: referenceTo(runbook, variant),
      },
      { reason: 'recorded for replay tests', signer: signer('alice'), now: new Date() },
    );
  };
  /** A signed operator update for the run, as the CLI sends it. */
  const signed = async (
    handle: WorkflowHandle,
    by: DemoOperator,
    fields: { action: StatementAction; stepId?: string; reason: string },
  ) => {
    const { authorization } = await handle.query<FailoverProgress>('progress');
    return {
      signed: signer(by).sign({
        ...fields,
        runId: handle.workflowId,
        runbookId: authorization?.runbookId ?? '?',
        runbookHash: authorization?.runbookHash ?? '?',
      }),
    };
  };
  const save = async (name: string, handle: WorkflowHandle): Promise<void> => {
    await handle.result().catch(() => undefined);
    writeFileSync(join(OUT, `${name}.json`), `${historyToJSON(await handle.fetchHistory())}\n`);
    console.log(`recorded ${name}`);
  };
  const handleOf = (run: StartedRun) => client.workflow.getHandle(run.workflowId, run.runId);
  const drillSettings = {
    reason: 'recorded for replay tests',
    signer: signer('alice'),
    action: 'fence-primary' as const,
    canaryIntervalMs: 100,
    warmupMs: 1000,
  };
  /** Once the evacuation waits at the wave's approval gate, `by` approves it (signed, as `drctl approve` does). */
  const approveWave = async (handle: WorkflowHandle, wave: string, by: DemoOperator): Promise<void> => {
    for (;;) {
      const progress = await handle.query<EvacuationProgress>('evacuationProgress').catch(() => undefined);
      if (progress?.awaiting.some((gate) => gate.stepId === wave)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await handle.executeUpdate('approve', {
      args: [await signed(handle, by, { action: 'approve', stepId: wave, reason: 'recorded approval' })],
    });
  };

  try {
    if (wanted('failover-complete')) {
      await resetStack();
      await save('failover-complete', handleOf(await start(variant('replay-complete', []))));
    }

    if (wanted('failover-grouped-fence')) {
      await resetStack();
      await save('failover-grouped-fence', handleOf(await start(groupedFence('replay-grouped'))));
    }

    if (wanted('failover-paused-then-retried')) {
      await resetStack();
      proxy.setPermanent({
        match: (req) => req.operation === 'ChangeResourceRecordSets',
        error: 'AccessDenied',
      });
      const paused = handleOf(
        await start(
          variant('replay-paused', [], (step) =>
            step.id === 'switch-dns' ? { ...step, onFailure: 'pause' } : step,
          ),
        ),
      );
      await until(paused, (progress) => progress.status === 'paused');
      proxy.setPermanent(undefined);
      await paused.executeUpdate('decide', {
        args: [
          await signed(paused, 'bob', { action: 'retry', stepId: 'switch-dns', reason: 'permission fixed' }),
        ],
      });
      await save('failover-paused-then-retried', paused);
    }

    if (wanted('failover-aborted-with-rollback')) {
      await resetStack();
      const aborted = handleOf(
        await start(
          variant('replay-aborted', [{ after: 'switch-dns', step: { id: 'hold', kind: 'approval' } }]),
        ),
      );
      await until(aborted, (progress) => progress.awaiting.some((gate) => gate.stepId === 'hold'));
      await aborted.executeUpdate('abort', {
        args: [await signed(aborted, 'alice', { action: 'abort', reason: 'recorded abort' })],
      });
      await save('failover-aborted-with-rollback', aborted);
    }

    if (wanted('failover-unfenced')) {
      await resetStack();
      await killPostgresPrimary();
      const unfenced = handleOf(await start(variant('replay-unfenced', [])));
      await until(unfenced, (progress) => progress.awaiting.some((gate) => gate.stepId === 'fence-primary'));
      for (const operator of ['bob', 'carol'] as const) {
        await unfenced.executeUpdate('approve', {
          args: [
            await signed(unfenced, operator, {
              action: 'approve',
              stepId: 'fence-primary',
              reason: 'host down',
            }),
          ],
        });
      }
      await save('failover-unfenced', unfenced);
      const followUp = client.workflow.getHandle('fence-follow-up-replay-unfenced-ehr');
      const { authorization } = await followUp.query<{
        authorization: { runbookId: string; runbookHash: string };
      }>('followUp');
      await followUp.executeUpdate('close', {
        args: [
          {
            signed: signer('alice').sign({
              action: 'abort',
              stepId: 'close',
              reason: 'recorded close',
              runId: followUp.workflowId,
              ...authorization,
            }),
          },
        ],
      });
      await save('fence-follow-up-closed', followUp);
    }

    if (wanted('drill')) {
      await resetStack();
      const drillId = await startDrill(client, taskQueue, runbookDrill(ehrDb), drillSettings);
      const drill = client.workflow.getHandle(drillId);
      await save('drill', drill);
      // The drill's failover: held under the runbook's lock until the failure was injected, then released.
      const { failover } = (await drill.result()) as DrillResult;
      await save('drill-failover', client.workflow.getHandle(failover.workflowId, failover.runId));
    }

    if (wanted('drill-called-off')) {
      await resetStack();
      const drillId = await startDrill(client, taskQueue, runbookDrill(ehrDb), {
        ...drillSettings,
        warmupMs: 60_000,
      });
      // alice calls the drill off during its warm-up: the abort goes to the failover it holds, as the CLI sends it.
      const held = client.workflow.getHandle(runLockId(ehrDb.id));
      await until(held, (progress) => progress.heldBy === drillId);
      await held.executeUpdate('abort', {
        args: [await signed(held, 'alice', { action: 'abort', reason: 'recorded: drill called off' })],
      });
      await save('drill-called-off', client.workflow.getHandle(drillId));
    }

    if (wanted('failback')) {
      await resetStack();
      await handleOf(await start(ehrDb)).result();
      await rebuildPrimaryAsReplica();
      await save('failback', handleOf(await start(ehrDb, 'failback')));
    }

    // The us-east-1 evacuation: ehr-db, then patient-portal-rds once bob approved the second wave.
    const usEast1 = findEvacuation('us-east-1', [resolve(__dirname, '../runbooks/examples')]);
    if (usEast1 === undefined) throw new Error('the bundled us-east-1 evacuation did not load');
    /** The us-east-1 evacuation started as alice. */
    const startUsEast1 = async (): Promise<WorkflowHandle> =>
      client.workflow.getHandle(
        await startEvacuation(client, taskQueue, usEast1, {
          reason: 'recorded for replay tests',
          signer: signer('alice'),
          now: new Date(),
        }),
      );
    if (wanted('evacuation')) {
      await resetStack();
      const evacuation = await startUsEast1();
      await approveWave(evacuation, 'portal', 'bob');
      await save('evacuation', evacuation);
      // Its first wave's failover: held under its lock, its pre-flight made while held, then released.
      await save('evacuation-first-wave-failover', client.workflow.getHandle(runLockId('ehr-db')));
    }

    if (wanted('evacuation-aborted')) {
      // alice aborts the us-east-1 evacuation while ehr-db's failover runs: the abort is forwarded to that run
      // (`abortRun`) and its answer recorded. Tried again if the failover ended before the abort reached it.
      let forwarded = false;
      for (let attempt = 1; attempt <= 5 && !forwarded; attempt++) {
        await resetStack();
        const evacuation = await startUsEast1();
        for (;;) {
          const progress = await evacuation
            .query<EvacuationProgress>('evacuationProgress')
            .catch(() => undefined);
          const state = progress?.services.find((service) => service.runbookId === 'ehr-db')?.state;
          if (state !== undefined && state !== 'waiting' && state !== 'blocked') break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await evacuation.executeUpdate('abort', {
          args: [
            await signed(evacuation, 'alice', { action: 'abort', reason: 'recorded: evacuation called off' }),
          ],
        });
        await evacuation.result().catch(() => undefined);
        const { events } = await evacuation.fetchHistory();
        forwarded = (events ?? []).some(
          (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'abortRun',
        );
        if (forwarded) await save('evacuation-aborted', evacuation);
      }
      if (!forwarded) throw new Error('ehr-db ended before the abort reached it in 5 tries; run again');
    }

    if (wanted('drill-evacuation')) {
      await resetStack();
      const drillId = await startDrill(client, taskQueue, evacuationDrill(usEast1), drillSettings);
      const evacuation = client.workflow.getHandle(`${drillId}-evacuation`);
      await approveWave(evacuation, 'portal', 'bob');
      await client.workflow.getHandle(drillId).result();
      await save('drill-evacuation', evacuation);
    }

    if (wanted('drill-evacuation-called-off')) {
      await resetStack();
      const drillId = await startDrill(client, taskQueue, evacuationDrill(usEast1), {
        ...drillSettings,
        warmupMs: 60_000,
      });
      // alice calls the drill off during its warm-up: the abort goes to the evacuation it holds.
      const evacuation = client.workflow.getHandle(`${drillId}-evacuation`);
      let authorization: EvacuationProgress['authorization'];
      while (authorization === undefined) {
        const progress = await evacuation
          .query<EvacuationProgress>('evacuationProgress')
          .catch(() => undefined);
        authorization = progress?.authorization;
        if (authorization === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await evacuation.executeUpdate('abort', {
        args: [
          {
            signed: signer('alice').sign({
              action: 'abort',
              reason: 'recorded: region drill called off',
              runId: evacuation.workflowId,
              runbookId: authorization.runbookId,
              runbookHash: authorization.runbookHash,
            }),
          },
        ],
      });
      await save('drill-evacuation-called-off', client.workflow.getHandle(drillId));
    }
  } finally {
    await resetStack();
    await connection.close();
    stopWorker.abort();
    await proxy.close();
  }
}

/** ehr-db under another id, with steps inserted after the named ones and each step mapped. */
function variant(
  id: string,
  inserts: Array<{ after: string; step: Record<string, unknown> }>,
  map: (step: Record<string, unknown>) => Record<string, unknown> = (step) => step,
): Runbook {
  const steps: Array<Record<string, unknown>> = ehrDb.steps.map((step) => map({ ...step }));
  for (const { after, step } of inserts) steps.splice(steps.findIndex((s) => s.id === after) + 1, 0, step);
  return defineRunbook({ ...ehrDb, id, steps } as RunbookInput);
}

/**
 * ehr-db with its fence in a parallel group, as an evacuation's services fence their databases: the backups, then
 * the fence beside the flags (the fence's plan is read ahead while the backups run). The fence comes first: a run
 * that read nothing ahead schedules the fence's own read before the flags' read, and must replay in that order.
 */
function groupedFence(id: string): Runbook {
  const leaves = new Map(
    ehrDb.steps
      .flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]))
      .map((step) => [step.id, step]),
  );
  const leaf = (stepId: string) => {
    const step = leaves.get(stepId);
    if (step === undefined) throw new Error(`ehr-db has no step ${stepId}`);
    return step;
  };
  const steps = [
    leaf('preflight'),
    leaf('verify-backups'),
    { id: 'isolate', kind: 'parallel', steps: [leaf('fence-primary'), leaf('degraded-mode-on')] },
    leaf('promote-replica'),
    leaf('switch-dns'),
    leaf('probe-writes'),
  ];
  return defineRunbook({ ...ehrDb, id, steps } as RunbookInput);
}

async function until(
  handle: WorkflowHandle,
  reached: (progress: FailoverProgress) => boolean,
): Promise<void> {
  for (;;) {
    // A run another starts (a drill's failover) may not be there yet.
    const progress = await handle.query<FailoverProgress>('progress').catch(() => undefined);
    if (progress !== undefined && reached(progress)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
