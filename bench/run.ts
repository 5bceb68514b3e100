import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { planFailover, referenceTo } from '../cli/failover-runs';
import { loadSigner } from '../cli/operator-signer';
import { formatMs } from '../runbooks/duration';
import ehrDb from '../runbooks/examples/ehr-db';
import { operatorPaths } from '../sandbox/operator-seed';
import { sandboxPaths } from '../sandbox/sandbox-paths';
import { ensureStackUp, resetStack } from '../sandbox/stack';
import type { StackInfo } from '../sandbox/stack-info';
import { dataConverterOptions } from '../security/codec/data-converter';
import { loadConfig } from '../worker/config';
import { runWorker } from '../worker/run-worker';
import type { FailoverResult } from '../workflows/run-types';
import { runBashFailover } from './bash-failover';
import { coldStarts } from './cold-start';
import { criticalPathProviderMs } from './critical-path';
import { median, medianMax } from './figures';
import { lastToggleAt, watchFlagsServed, type UnleashEndpoints } from './flag-visibility';
import { goalTable, type Goal } from './goals';
import { historyFigures } from './history-figures';

/**
 * Figures for the local stack, beside issue 10's goals and their anchors: `drctl failover ehr-db --follow
 * --output json` (CLI wall, the run's own duration, each step's time and provider time), interleaved with the same
 * failover as a bash + aws CLI script (bench/ehr-db-failover.sh) and followed live in text (the run's duration
 * while the CLI queries it); the flags step minus Unleash's revision tick; `drctl plan`;
 * how long the CLI takes to say Temporal is unreachable; and cold starts of `--help`, `status` and `plan` beside the
 * Temporal CLI. Each section prints the load average it ran under. Usage: npm run bench [-- <failovers>]
 */
const runs = Number(process.argv[2] ?? 3);
const COLD_RUNS = 15;
const DRCTL = resolve(__dirname, '../bin/drctl');
const FLAGS_STEP = 'degraded-mode-on';
/** A client-API query of the benchmark's own (drctl reads with the prefix `ehr-` and with none). */
const WATCH_PREFIX = 'eh';

async function main(): Promise<void> {
  const stack = await ensureStackUp();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  const taskQueue = `bench-${randomUUID()}`;
  const config = loadConfig({ file: stack.configFile, overrides: { temporal: { taskQueue } } });
  const signer = loadSigner(operatorPaths.keyFile('alice'));
  const stopWorker = new AbortController();
  await new Promise<void>((onReady) => void runWorker(config, { signal: stopWorker.signal, onReady }));
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({
    connection,
    namespace: stack.temporal.namespace,
    ...dataConverterOptions(config).options,
  });
  const drctlEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DRCTL_CONFIG: stack.configFile,
    DRCTL_TASK_QUEUE: taskQueue,
    DRCTL_KEY_FILE: operatorPaths.keyFile('alice'),
  };

  const failovers = {
    wall: [] as number[],
    total: [] as number[],
    inRun: [] as number[],
    overhead: [] as number[],
    notInActivities: [] as number[],
  };
  const bash: number[] = [];
  /** The same failover followed live in text (what an operator at a terminal sees): the run is queried as it goes. */
  const followedLive: number[] = [];
  const flagsMinusTick: number[] = [];
  const ticks: number[] = [];
  const steps = new Map<string, { ms: number[]; providerMs: number[] }>();
  let lastWorkflowId = '';
  const failoverLoad = loadLine();
  for (let i = 0; i < runs; i++) {
    await resetStack();
    const { wallMs, result } = await cliFailover(drctlEnv);
    const inRun = Date.parse(result.endedAt) - Date.parse(result.startedAt);
    const recorded = await historyFigures(client, result.workflowId, result.runId);
    failovers.wall.push(wallMs);
    failovers.total.push(recorded.totalMs);
    failovers.inRun.push(inRun);
    failovers.overhead.push(recorded.totalMs - criticalPathProviderMs(result.timeline));
    failovers.notInActivities.push(recorded.totalMs - recorded.activityMs);
    lastWorkflowId = result.workflowId;
    for (const entry of result.timeline) {
      const figures = steps.get(entry.stepId) ?? { ms: [], providerMs: [] };
      figures.ms.push(entry.durationMs ?? 0);
      figures.providerMs.push(entry.providerMs);
      steps.set(entry.stepId, figures);
    }
    bash.push(await runBashFailover(await resetStack()));
    // Unleash's tick is watched beside the failover followed in text, not the timed one above: the watcher asks
    // the client API every 10 ms, load on the same two cores that the timed run must not carry.
    const unleash = unleashOf(await resetStack());
    const wanted = Object.fromEntries(flagNames().map((name) => [name, true]));
    const watch = watchFlagsServed(unleash, wanted, WATCH_PREFIX);
    const since = Date.now();
    await followedFailover(drctlEnv, 'text');
    const servedAt = await watch.stop();
    const changedAt = await lastToggleAt(unleash, flagNames(), since);
    const followed = (await client.workflow.getHandle(result.workflowId).result()) as FailoverResult;
    followedLive.push((await historyFigures(client, followed.workflowId, followed.runId)).totalMs);
    const flagsStep = followed.timeline.find((entry) => entry.stepId === FLAGS_STEP);
    if (servedAt !== undefined && changedAt !== undefined && flagsStep?.durationMs !== undefined) {
      ticks.push(servedAt - changedAt);
      flagsMinusTick.push(flagsStep.durationMs - (servedAt - changedAt));
    }
  }
  const failoverLoadAfter = loadLine();

  const planStarted = performance.now();
  await planFailover(client, taskQueue, { runbook: ehrDb, reference: referenceTo(ehrDb) }, signer);
  const planMs = performance.now() - planStarted;
  const unreachableMs = await timeUnreachable();

  // Plan reads a stack in its first state (the last failover moved it).
  await resetStack();
  const temporalArgs = ['--address', stack.temporal.address, '--namespace', stack.temporal.namespace];
  const coldLoad = loadLine();
  const cold = {
    node: await coldStarts(process.execPath, ['-e', '0'], drctlEnv, COLD_RUNS),
    help: await coldStarts(process.execPath, [DRCTL, '--help'], drctlEnv, COLD_RUNS),
    temporalHelp: await coldStarts(sandboxPaths.temporalBinary, ['--help'], drctlEnv, COLD_RUNS),
    status: await coldStarts(process.execPath, [DRCTL, 'status', lastWorkflowId], drctlEnv, COLD_RUNS),
    temporalDescribe: await coldStarts(
      sandboxPaths.temporalBinary,
      ['workflow', 'describe', '--workflow-id', lastWorkflowId, ...temporalArgs],
      drctlEnv,
      COLD_RUNS,
    ),
    plan: await coldStarts(process.execPath, [DRCTL, 'plan', 'ehr-db'], drctlEnv, COLD_RUNS),
  };
  const coldLoadAfter = loadLine();
  const planWorkflowMs = await recentPlanDurations(client, COLD_RUNS);
  await connection.close();
  stopWorker.abort();

  console.log(
    `ehr-db failover on the local stack, ${runs} runs interleaved with bash + aws CLI (median, max)`,
  );
  console.log(`  load average before ${failoverLoad}, after ${failoverLoadAfter}`);
  console.log(`  drctl failover --follow, CLI wall       ${medianMax(failovers.wall)}`);
  console.log(`  workflow total (start → close event)    ${medianMax(failovers.total)}`);
  console.log(`  steps (workflow start → last step end)  ${medianMax(failovers.inRun)}`);
  console.log(`  workflow total − critical-path provider ${medianMax(failovers.overhead)}`);
  console.log(`  workflow total − time in activities     ${medianMax(failovers.notInActivities)}`);
  console.log(
    `  workflow total, followed live in text   ${medianMax(followedLive)}   (with Unleash's tick watched)`,
  );
  console.log(`  bench/ehr-db-failover.sh (bash + aws)   ${medianMax(bash)}`);
  for (const [stepId, { ms, providerMs }] of steps) {
    console.log(`  ${stepId.padEnd(38)} ${medianMax(ms)}   provider ${medianMax(providerMs)}`);
  }
  if (ticks.length > 0) {
    console.log(`  Unleash revision tick (change → served) ${medianMax(ticks)}`);
    console.log(
      `  ${`${FLAGS_STEP} − Unleash's tick`.padEnd(38)} ${medianMax(flagsMinusTick)}   (the runs followed in text)`,
    );
  } else console.log(`  Unleash revision tick: not seen (the watcher never saw the change served)`);
  console.log(`drctl plan ehr-db (workflow on the worker)  ${formatMs(planMs)}`);
  console.log(`drctl plan with Temporal unreachable → exit 3 after  ${formatMs(unreachableMs)}`);
  console.log(`Cold starts, ${COLD_RUNS} runs each after one untimed (median, max)`);
  console.log(`  load average before ${coldLoad}, after ${coldLoadAfter}`);
  console.log(`  node -e 0 (anchor)                      ${medianMax(cold.node)}`);
  console.log(`  drctl --help                            ${medianMax(cold.help)}`);
  console.log(`  temporal --help (anchor)                ${medianMax(cold.temporalHelp)}`);
  console.log(`  drctl status <failover>                 ${medianMax(cold.status)}`);
  console.log(`  temporal workflow describe (anchor)     ${medianMax(cold.temporalDescribe)}`);
  console.log(`  drctl plan ehr-db                       ${medianMax(cold.plan)}`);
  console.log(`  its plan workflow on the worker (anchor) ${medianMax(planWorkflowMs)}`);

  const goals: Goal[] = [
    {
      name: 'drctl --help cold start',
      value: median(cold.help),
      bound: 'at most',
      limit: 150,
      unit: 'ms',
      anchor: `temporal --help ${ms(cold.temporalHelp)}, node -e 0 ${ms(cold.node)}`,
    },
    {
      name: 'drctl status cold start',
      value: median(cold.status),
      bound: 'at most',
      limit: 300,
      unit: 'ms',
      anchor: `temporal workflow describe ${ms(cold.temporalDescribe)}`,
    },
    {
      name: 'drctl plan ehr-db cold start',
      value: median(cold.plan),
      bound: 'at most',
      limit: 600,
      unit: 'ms',
      anchor: `its plan workflow on the worker ${ms(planWorkflowMs)}`,
    },
    {
      name: 'failover: workflow total − critical-path provider time',
      value: median(failovers.overhead),
      bound: 'at most',
      limit: 300,
      unit: 'ms',
      anchor: `workflow total ${ms(failovers.total)}; outside any activity ${ms(failovers.notInActivities)}`,
    },
    {
      name: 'failover: CLI wall − workflow total',
      value: median(failovers.wall.map((wall, i) => wall - (failovers.total[i] as number))),
      bound: 'at most',
      limit: 200,
      unit: 'ms',
      anchor: `drctl status cold start ${ms(cold.status)}`,
    },
    {
      name: 'failover: bash + aws CLI ÷ drctl, end to end',
      value: median(bash) / median(failovers.wall),
      bound: 'at least',
      limit: 4,
      unit: '×',
      // How much room 4× leaves drctl beyond the provider calls on its own critical path.
      anchor: `bash + aws ${ms(bash)}, drctl ${ms(failovers.wall)}; 4× needs drctl ≤ ${formatMs(Math.round(median(bash) / 4))}, its critical path's providers alone take ${ms(failovers.total.map((total, i) => total - (failovers.overhead[i] as number)))}`,
    },
  ];
  console.log(`Goals (issue 10), on this machine (${availableParallelism()} cores):`);
  for (const line of goalTable(goals)) console.log(`  ${line}`);
}

const ms = (values: number[]) => formatMs(Math.round(median(values)));

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
function loadLine(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function flagNames(): string[] {
  const step = ehrDb.steps.flatMap((s) => ('steps' in s ? s.steps : [s])).find((s) => s.id === FLAGS_STEP);
  if (step?.kind !== 'flags.set') throw new Error(`ehr-db has no flags.set step ${FLAGS_STEP}`);
  return step.flags.map((flag) => flag.name);
}

function unleashOf(stack: StackInfo): UnleashEndpoints {
  return {
    url: stack.unleash.url,
    adminToken: stack.unleash.adminToken,
    clientToken: stack.unleash.clientToken,
    environment: stack.unleash.environment,
  };
}

/** `drctl failover ehr-db --yes --follow --output json` as a fresh process: its wall time and the result it printed. */
async function cliFailover(env: NodeJS.ProcessEnv): Promise<{ wallMs: number; result: FailoverResult }> {
  const { wallMs, stdout } = await followedFailover(env, 'json');
  const result = JSON.parse(stdout) as FailoverResult;
  if (result.status !== 'succeeded') throw new Error(`drctl failover ${result.status}`);
  return { wallMs, result };
}

/**
 * `drctl failover ehr-db --yes --follow --output <output>`: followed in text, the CLI asks the run for each step
 * as it ends; with JSON it waits for the close.
 */
function followedFailover(
  env: NodeJS.ProcessEnv,
  output: 'json' | 'text',
): Promise<{ wallMs: number; stdout: string }> {
  const started = performance.now();
  return new Promise((done, failed) =>
    execFile(
      process.execPath,
      [DRCTL, 'failover', 'ehr-db', '--reason', 'benchmark', '--yes', '--follow', '--output', output],
      { env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return failed(new Error(`drctl failover failed: ${stderr || error.message}`));
        done({ wallMs: performance.now() - started, stdout });
      },
    ),
  );
}

/** Durations of the newest `count` plan workflows (the cold-start runs of `drctl plan`). */
async function recentPlanDurations(client: Client, count: number): Promise<number[]> {
  const durations: number[] = [];
  for await (const run of client.workflow.list({ query: `DrctlKind = 'plan'` })) {
    if (run.closeTime) durations.push(run.closeTime.getTime() - run.startTime.getTime());
    if (durations.length === count) break;
  }
  return durations;
}

function timeUnreachable(): Promise<number> {
  const started = performance.now();
  return new Promise((done, failed) =>
    execFile(
      process.execPath,
      [DRCTL, 'plan', 'ehr-db'],
      { env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: '127.0.0.1:9' } },
      (error) =>
        error?.code === 3
          ? done(performance.now() - started)
          : failed(new Error(`expected exit 3, got ${error?.code ?? 0}`)),
    ),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${(error as Error).message}`);
    process.exit(1);
  },
);
