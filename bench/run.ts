import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planFailover, readRun, referenceTo, startFailover } from '../cli/failover-runs';
import { loadSigner } from '../cli/operator-signer';
import { loadRunbookFile } from '../runbooks/catalog';
import { operatorPaths } from '../sandbox/operator-seed';
import { writeFileSync } from 'node:fs';
import { formatMs } from '../runbooks/duration';
import ehrDb from '../runbooks/examples/ehr-db';
import { sandboxPaths } from '../sandbox/sandbox-paths';
import { ensureStackUp, resetStack } from '../sandbox/stack';
import { dataConverterOptions } from '../security/codec/data-converter';
import { loadConfig } from '../worker/config';
import { runWorker } from '../worker/run-worker';
import type { FailoverResult } from '../workflows/run-types';

/**
 * Figures for the local stack: a full `ehr-db` failover (wall time from start request to recorded result,
 * the run's own duration, and each step's time and provider time), `drctl plan`, and how long the CLI takes
 * to say Temporal is unreachable. Usage: npm run bench [-- <runs>]
 */
const runs = Number(process.argv[2] ?? 3);

async function main(): Promise<void> {
  const stack = await ensureStackUp();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  const taskQueue = `bench-${randomUUID()}`;
  // The bench's runbook variants join the worker's reviewed catalog, as a reviewer would merge them.
  const catalog = mkdtempSync(join(tmpdir(), 'drctl-bench-catalog-'));
  const config = loadConfig({
    file: stack.configFile,
    overrides: {
      temporal: { taskQueue },
      access: { catalogDirs: [resolve(__dirname, '../runbooks/examples'), catalog] },
    },
  });
  const signer = loadSigner(operatorPaths.keyFile('alice'));
  const reviewed = (id: string) => {
    const file = join(catalog, `${id}.json`);
    writeFileSync(file, JSON.stringify({ ...ehrDb, id }));
    const runbook = loadRunbookFile(file);
    return { runbook, reference: referenceTo(runbook) };
  };
  const stopWorker = new AbortController();
  const ready = new Promise<void>(
    (onReady) => void runWorker(config, { signal: stopWorker.signal, onReady }),
  );
  await ready;
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({
    connection,
    namespace: stack.temporal.namespace,
    ...dataConverterOptions(config).options,
  });

  const wall: number[] = [];
  const inRun: number[] = [];
  const steps = new Map<string, { ms: number[]; providerMs: number[] }>();
  for (let i = 0; i < runs; i++) {
    await resetStack();
    const started = performance.now();
    const workflowId = await startFailover(client, taskQueue, reviewed(`bench-ehr-db-${i}`), {
      reason: 'benchmark',
      signer,
      now: new Date(),
    });
    const result = await waitForResult(client, workflowId);
    wall.push(performance.now() - started);
    if (result.status !== 'succeeded') throw new Error(`bench run ${workflowId} ${result.status}`);
    inRun.push(Date.parse(result.endedAt) - Date.parse(result.startedAt));
    for (const entry of result.timeline) {
      const figures = steps.get(entry.stepId) ?? { ms: [], providerMs: [] };
      figures.ms.push(entry.durationMs ?? 0);
      figures.providerMs.push(entry.providerMs);
      steps.set(entry.stepId, figures);
    }
  }

  const planStarted = performance.now();
  await planFailover(client, taskQueue, { runbook: ehrDb, reference: referenceTo(ehrDb) }, signer);
  const planMs = performance.now() - planStarted;

  const unreachableMs = await timeUnreachable();
  // Plan reads a stack back in its first state (the last failover moved it).
  await resetStack();
  const lastRun = `bench-ehr-db-${runs - 1}`;
  const drctlEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DRCTL_CONFIG: stack.configFile,
    DRCTL_TASK_QUEUE: taskQueue,
    DRCTL_KEY_FILE: operatorPaths.keyFile('alice'),
  };
  const statusId = (await latestRunId(client, lastRun)) ?? lastRun;
  const cold = {
    help: await coldStarts([DRCTL, '--help'], drctlEnv),
    status: await coldStarts([DRCTL, 'status', statusId], drctlEnv),
    plan: await coldStarts([DRCTL, 'plan', 'ehr-db'], drctlEnv),
    temporal: await coldStarts(['--help'], drctlEnv, sandboxPaths.temporalBinary),
  };
  await connection.close();
  stopWorker.abort();

  console.log(`ehr-db failover on the local stack, ${runs} runs (median, max):`);
  console.log(`  start request → recorded result   ${figures(wall)}`);
  console.log(`  run duration (workflow clock)     ${figures(inRun)}`);
  for (const [stepId, { ms, providerMs }] of steps) {
    console.log(`  ${stepId.padEnd(32)} ${figures(ms)}   provider ${figures(providerMs)}`);
  }
  console.log(`drctl plan ehr-db (workflow on the worker)  ${formatMs(planMs)}`);
  console.log(`drctl plan with Temporal unreachable → exit 3 after  ${formatMs(unreachableMs)}`);
  console.log(`CLI cold start, ${COLD_RUNS} runs each (median, max; goal):`);
  console.log(`  drctl --help                      ${figures(cold.help)}   (≤ 150 ms)`);
  console.log(`  drctl status <failover>           ${figures(cold.status)}   (≤ 300 ms)`);
  console.log(`  drctl plan ehr-db                 ${figures(cold.plan)}   (≤ 600 ms)`);
  console.log(`  temporal --help (anchor)          ${figures(cold.temporal)}`);
}

async function waitForResult(client: Client, workflowId: string): Promise<FailoverResult> {
  for (;;) {
    const state = await readRun(client, workflowId);
    if (state.closed && state.result) return state.result;
    if (state.closed) throw new Error(`${workflowId} ended without a result: ${state.message}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

const DRCTL = resolve(__dirname, '../bin/drctl');
const COLD_RUNS = 7;

/** Wall times of `COLD_RUNS` fresh processes (node bin/drctl …, or another binary), each run to its exit. */
async function coldStarts(
  args: string[],
  env: NodeJS.ProcessEnv,
  binary: string = process.execPath,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const started = performance.now();
    await new Promise<void>((done, failed) =>
      execFile(binary, args, { env }, (error, _stdout, stderr) =>
        error ? failed(new Error(`${args.join(' ')} failed: ${stderr || error.message}`)) : done(),
      ),
    );
    times.push(performance.now() - started);
  }
  return times;
}

/** The workflow id of the newest run of a runbook (what `drctl status` is timed on). */
async function latestRunId(client: Client, runbookId: string): Promise<string | undefined> {
  for await (const run of client.workflow.list({ query: `DrctlRunbook = '${runbookId}'` }))
    return run.workflowId;
  return undefined;
}

function timeUnreachable(): Promise<number> {
  const started = performance.now();
  return new Promise((done, failed) =>
    execFile(
      process.execPath,
      [resolve(__dirname, '../bin/drctl'), 'plan', 'ehr-db'],
      { env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: '127.0.0.1:9' } },
      (error) =>
        error?.code === 3
          ? done(performance.now() - started)
          : failed(new Error(`expected exit 3, got ${error?.code ?? 0}`)),
    ),
  );
}

function figures(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return `${formatMs(median).padStart(7)} ${formatMs(sorted[sorted.length - 1] ?? 0).padStart(7)}`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${(error as Error).message}`);
    process.exit(1);
  },
);
