import { randomUUID } from 'node:crypto';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createUnleashClientReader } from '../../activities/flags/unleash-client-reader';
import { runbookDrill, startDrill } from '../../cli/drill-runs';
import type { EvacuationResult } from '../../evacuations/evacuation-types';
import type { FailoverResult, PlanResult } from '../../workflows/run-types';
import { loadRunbookFile } from '../../runbooks/catalog';
import type { StackInfo } from '../../sandbox/stack-info';
import { operatorPaths } from '../../sandbox/operator-seed';
import { strictAwsControl } from '../../sandbox/strict-aws-client';
import { DRCTL, drctl, drctlEnv, drctlOnTerminal, startWorkerProcess, stopProcess } from './drctl-process';
import { EXAMPLES_DIR, signerOf } from './operators';
import { getStack } from './stack';
import { sandboxDataConverter } from './sandbox-data-converter';

/**
 * Plans that tell the truth, a catalog that isolates a broken file, and the CLI for runs, on the real stack with
 * a worker polling. The runbooks here touch only one Unleash flag, and leave it as they found it (off).
 */
const ESC = '\x1b';
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let connection: Connection;
let temporal: Client;
const dir = mkdtempSync(join(tmpdir(), 'drctl-plan-e2e-'));
const id = (base: string) => `${base}-${randomUUID().slice(0, 6)}`;

const FLAG_ON_THEN_OFF = id('flag-on-then-off');
const BAD_PROBE = id('bad-probe');
const READY_WAIT = id('ready-wait');
const MISSING_BACKUPS = id('missing-backups');
const BACKUPS_FIRST = id('backups-first');
const evacuationsDir = mkdtempSync(join(tmpdir(), 'drctl-plan-e2e-evacuations-'));
const BAD_PROBE_EVACUATION = id('bad-probe-region');

function flagStep(stepId: string, enabled: boolean) {
  return {
    id: stepId,
    kind: 'flags.set',
    project: stack.unleash.project,
    environment: stack.unleash.environment,
    flags: [{ name: flag(), enabled }],
    retry: { maximumAttempts: 2, initialInterval: '100ms', maximumInterval: '200ms' },
  };
}

function flag(): string {
  return stack.unleash.flags[1] ?? 'ehr-read-only-banner';
}

function writeRunbook(runbookId: string, steps: unknown[]): void {
  const runbook = {
    id: runbookId,
    title: `e2e ${runbookId}`,
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
    steps,
  };
  writeFileSync(join(dir, `${runbookId}.json`), JSON.stringify(runbook, null, 2));
}

async function flagSeen(): Promise<boolean | null> {
  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  return (await reader.read([flag()]))[flag()] ?? null;
}

beforeAll(async () => {
  stack = getStack();
  writeRunbook(FLAG_ON_THEN_OFF, [
    { id: 'checks', kind: 'preflight' },
    flagStep('banner-on', true),
    flagStep('banner-off', false),
  ]);
  writeRunbook(READY_WAIT, [{ id: 'settle', kind: 'wait', duration: '100ms' }]);
  writeRunbook(MISSING_BACKUPS, [
    { id: 'checks', kind: 'preflight' },
    { id: 'backups', kind: 'backups.verify', bucket: 'drctl-no-such-backups', maxAge: '1d' },
  ]);
  writeRunbook(BACKUPS_FIRST, [
    { id: 'backups', kind: 'backups.verify', bucket: 'drctl-no-such-backups', maxAge: '1d' },
    { id: 'checks-after', kind: 'preflight' },
    { id: 'checks-again', kind: 'preflight' },
  ]);
  writeRunbook(BAD_PROBE, [
    { id: 'checks', kind: 'preflight' },
    {
      id: 'probe-writes',
      kind: 'probe',
      probe: {
        type: 'sql',
        connection: 'no-such-connection',
        via: { zone: { name: stack.aws.route53.zoneName }, record: `ehr-db.${stack.aws.route53.zoneName}` },
      },
    },
  ]);
  writeFileSync(
    join(evacuationsDir, `${BAD_PROBE_EVACUATION}.json`),
    JSON.stringify({
      id: BAD_PROBE_EVACUATION,
      title: 'an evacuation whose one runbook is not ready',
      onServiceFailure: 'stop',
      waves: [{ id: 'only', runbooks: [BAD_PROBE] }],
    }),
  );
  writeFileSync(join(dir, 'broken.ts'), "throw new Error('this runbook file is broken on purpose');\n");
  // The CLI finds the runbooks in `dir`; the worker runs them from its reviewed catalog, which includes `dir`.
  env = {
    ...drctlEnv(stack, `plan-e2e-${randomUUID()}`),
    DRCTL_RUNBOOKS_DIR: dir,
    DRCTL_CATALOG_DIRS: `${EXAMPLES_DIR}:${dir}`,
    DRCTL_EVACUATIONS_DIR: evacuationsDir,
  };
  worker = await startWorkerProcess(env);
  connection = await Connection.connect({ address: stack.temporal.address });
  temporal = new Client({ connection, namespace: stack.temporal.namespace, ...sandboxDataConverter(stack) });
  expect(await flagSeen()).toBe(false);
});

afterAll(async () => {
  await stopProcess(worker);
  await connection?.close();
});

test('GIVEN a broken runbook file THEN runbooks lists it as broken with its path, and the good ones still plan', async () => {
  const listed = await drctl(['runbooks'], env);
  expect(listed.code).toBe(1);
  expect(listed.stdout).toContain(FLAG_ON_THEN_OFF);
  expect(listed.stdout).toMatch(new RegExp(`BROKEN ${join(dir, 'broken.ts')}[\\s\\S]*broken on purpose`));

  const plan = await drctl(['plan', FLAG_ON_THEN_OFF], env);
  expect(plan.stderr).toBe('');
  expect(plan.code).toBe(0);
});

test("GIVEN ehr-db, whose pre-flight, probe check and DNS step read one zone and one record at once THEN its plan spends one zone lookup of the account's Route 53 budget, not one per reader, and DNS planned again reads nothing more", async () => {
  const aws = strictAwsControl(stack.moto.controlUrl);
  await aws.resetStats();

  const plan = await drctl(['plan', 'ehr-db', '--output', 'json'], env);

  expect(plan.code).toBe(0);
  const route53 = Object.fromEntries(
    Object.entries((await aws.stats()).operations)
      .filter(([, op]) => op.service === 'route53')
      .map(([name, op]) => [name, op.calls]),
  );
  // Before: 3 ListHostedZonesByName and 4 ListResourceRecordSets, one per reader. Now the readers running at once
  // share a call, and the DNS step planned again with the promoted replica's address reads nothing more (it read
  // again before DNS_PLAN_READS_ONCE_PATCH: 3 ListResourceRecordSets).
  expect(route53).toEqual({ ListHostedZonesByName: 1, ListResourceRecordSets: 2, TestDNSAnswer: 1 });
});

test('GIVEN ehr-db, whose flags and backups steps run at once THEN plan shows them under their parallel group, in text and JSON', async () => {
  const text = await drctl(['plan', 'ehr-db'], env);
  const json = await drctl(['plan', 'ehr-db', '--output', 'json'], env);

  expect(text.code).toBe(0);
  const stepLines = text.stdout.split('\n').filter((line) => /^ *\d+\.(\d+)? /.test(line));
  expect(stepLines.map((line) => line.split(' [')[0]?.trim())).toEqual([
    '1. preflight',
    '2. prepare',
    '2.1 degraded-mode-on',
    '2.2 verify-backups',
    '3. fence-primary',
    '4. promote-replica',
    '5. switch-dns',
    '6. probe-writes',
  ]);
  expect(text.stdout).toContain(
    ' 2. prepare [parallel] Degrade the application and check the backups: 2 steps at once',
  );
  const steps = (JSON.parse(json.stdout) as PlanResult).steps;
  expect(steps.map((step) => step.group ?? null)).toEqual([
    null,
    'prepare',
    'prepare',
    null,
    null,
    null,
    null,
  ]);
});

test('GIVEN a backups step and a pre-flight THEN the plan makes the backups checks once, listed and counted under the pre-flight', async () => {
  const aws = strictAwsControl(stack.moto.controlUrl);
  await aws.resetStats();

  const plan = await drctl(['plan', MISSING_BACKUPS, '--output', 'json'], env);

  expect(plan.code).toBe(1);
  const result = JSON.parse(plan.stdout) as PlanResult;
  const [checks, backups] = result.steps;
  const failed = (checks?.checks ?? []).filter((check) => !check.ok);
  expect(failed.length).toBeGreaterThan(0);
  for (const check of failed) expect(check.check).toContain('s3://drctl-no-such-backups/');
  // Before: the backups step made the same checks again, and the verdict counted the failed one twice.
  expect(backups).toMatchObject({
    stepId: 'backups',
    checks: [],
    checkedBy: 'checks',
    note: expect.stringContaining('listed under the pre-flight checks;'),
  });
  expect(result.failedChecks).toBe(failed.length);
  const bucketReads = Object.fromEntries(
    Object.entries((await aws.stats()).operations)
      .filter(([, op]) => op.service === 's3')
      .map(([name, op]) => [name, op.calls]),
  );
  expect(bucketReads).toEqual({ GetBucketVersioning: 1, GetObjectLockConfiguration: 1, ListObjectsV2: 1 });
});

test('GIVEN a backups step before two pre-flight steps THEN it points at the first of them, and both show the checks made once, counted once', async () => {
  const aws = strictAwsControl(stack.moto.controlUrl);
  await aws.resetStats();

  const plan = await drctl(['plan', BACKUPS_FIRST, '--output', 'json'], env);

  expect(plan.code).toBe(1);
  const result = JSON.parse(plan.stdout) as PlanResult;
  const [backups, after, again] = result.steps;
  expect(backups).toMatchObject({ stepId: 'backups', checks: [], checkedBy: 'checks-after' });
  const failed = (after?.checks ?? []).filter((check) => !check.ok);
  expect(failed.length).toBeGreaterThan(0);
  expect(again?.checks).toEqual(after?.checks);
  expect(result.failedChecks).toBe(failed.length);
  const versioningReads = (await aws.stats()).operations.GetBucketVersioning?.calls;
  expect(versioningReads).toBe(1);
});

test('GIVEN a flag step 1 turns on and step 2 turns off THEN the plan compares step 2 with the state after step 1', async () => {
  const plan = await drctl(['plan', FLAG_ON_THEN_OFF], env);
  expect(plan.code).toBe(0);
  expect(plan.stdout).toMatch(new RegExp(`change flag .* ${flag()}: off → on`));
  expect(plan.stdout).toMatch(new RegExp(`change flag .* ${flag()}: on \\(after banner-on\\) → off`));
  expect(plan.stdout).not.toMatch(/already off/);
  expect(plan.stdout).toMatch(/Verdict: ready/);
});

test('GIVEN a probe whose connection is not configured THEN plan says NOT ready with exit 1, and failover refuses to start it', async () => {
  const plan = await drctl(['plan', BAD_PROBE], env);
  expect(plan.code).toBe(1);
  expect(plan.stdout).toMatch(
    /✖ probe no-such-connection: connection configured.*no PostgreSQL connection named "no-such-connection"/,
  );
  expect(plan.stdout).toMatch(/Verdict: NOT ready: 1 check failed/);
  expect(plan.stdout).not.toMatch(/Verdict: ready/);
  // The connections the worker has are named, those read from Secrets Manager included (before: "known: none").
  expect(plan.stdout).toMatch(/no PostgreSQL connection named "no-such-connection".*known: [^)]*ehr-app/);

  const json = JSON.parse((await drctl(['plan', BAD_PROBE, '--output', 'json'], env)).stdout) as {
    ready: boolean;
  };
  expect(json.ready).toBe(false);

  // At the prompt, as an operator at a terminal would meet it (a pseudo-terminal through `script`).
  const failover = await drctlOnTerminal(['failover', BAD_PROBE, '--reason', 'e2e'], env);
  expect(failover.code).toBe(4);
  expect(failover.output).toMatch(/not starting: the plan for .* is NOT ready .*--force/);
  expect(failover.output).not.toMatch(/Type ".*" to start/);
  const started = await temporal.workflow.count(`DrctlRunbook = '${BAD_PROBE}' AND DrctlKind = 'failover'`);
  expect(started.count).toBe(0);
});

test('GIVEN an evacuation whose runbook plan is NOT ready THEN evacuate refuses to start it at the prompt; --force starts it and records why', async () => {
  // Before: the prompt showed only the waves and started the evacuation, whose service then failed at pre-flight.
  const refused = await drctlOnTerminal(['evacuate', BAD_PROBE_EVACUATION, '--reason', 'e2e'], env);
  expect(refused.code).toBe(4);
  expect(refused.output).toMatch(/no PostgreSQL connection named "no-such-connection"/);
  expect(refused.output).toContain(`Evacuation verdict: NOT ready: ${BAD_PROBE}.`);
  expect(refused.output).toMatch(/not starting: the plan of evacuation .* is NOT ready .*--force/);
  expect(refused.output).not.toMatch(/Type ".*" to start/);
  const started = await temporal.workflow.count(
    `DrctlRunbook = '${BAD_PROBE_EVACUATION}' AND DrctlKind = 'evacuation'`,
  );
  expect(started.count).toBe(0);
  // Its plan in JSON names what is not ready, as the text does (before: only ready: false).
  const planned = await drctl(['plan', BAD_PROBE_EVACUATION, '--output', 'json'], env);
  expect(planned.code).toBe(1);
  expect(JSON.parse(planned.stdout)).toMatchObject({ ready: false, notReady: [BAD_PROBE] });

  const forced = await drctl(
    [
      'evacuate',
      BAD_PROBE_EVACUATION,
      '--reason',
      'e2e forced',
      '--yes',
      '--force',
      'the probe secret is rotated tonight',
      '--follow',
    ],
    env,
  );
  expect(forced.code).toBe(1);
  // Followed without a terminal: one line per change, under the table's header (before: rows only).
  expect(forced.stderr).toMatch(/^SERVICE +WAVE +STEP +ELAPSED +STATE$/m);
  expect(forced.stderr).toMatch(new RegExp(`^${BAD_PROBE} +only .*failed`, 'm'));
  const workflowId = /started (evacuation-\S+)/.exec(forced.stderr)?.[1] as string;
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  const result = JSON.parse(followed.stdout) as EvacuationResult;
  expect(result.authorization?.forcedPastPlan).toBe('the probe secret is rotated tonight');
  // Forced past the plan, not past the checks: the failover's pre-flight still stopped it before any change.
  expect(result.services.map((service) => `${service.runbookId}:${service.state}`)).toEqual([
    `${BAD_PROBE}:failed`,
  ]);
  const status = await drctl(['status', workflowId], env);
  expect(status.stdout).toContain(
    '‼ started although its plan was NOT ready: the probe secret is rotated tonight',
  );
  // The reason is part of the signed start: the offline check of the run's signed actions passes on it.
  const verified = await drctl(['verify-run', workflowId, '--policy', operatorPaths.policyFile], env);
  expect(verified.stderr).toBe('');
  expect(verified.code).toBe(0);

  // --force past a plan that is ready is said and not recorded: the run must not claim a NOT ready plan.
  const needless = await drctl(
    [
      'failover',
      READY_WAIT,
      '--reason',
      'e2e',
      '--yes',
      '--force',
      'just in case',
      '--follow',
      '--output',
      'json',
    ],
    env,
  );
  expect(needless.code).toBe(0);
  expect(needless.stderr).toContain(
    'the plan is ready: --force is not needed, and is not recorded with the run',
  );
  expect((JSON.parse(needless.stdout) as FailoverResult).authorization?.forcedPastPlan).toBeUndefined();
});

test('GIVEN a run whose reason holds terminal escapes THEN status shows them escaped, runs lists it, and report says it is not a drill', async () => {
  const reason = `INC-1 ${ESC}[2J${ESC}[31mred\nfake: succeeded`;
  const started = await drctl(['failover', FLAG_ON_THEN_OFF, '--reason', reason, '--yes', '--follow'], env);
  expect(started.code).toBe(0);
  expect(await flagSeen()).toBe(false);
  const runId = /(failover-\S+)/.exec(started.stderr)?.[1] as string;
  expect(runId).toBeDefined();

  const status = await drctl(['status', runId], env);
  expect(status.code).toBe(0);
  expect(status.stdout).not.toContain(ESC);
  expect(status.stdout).toContain('\\x1b[2J\\x1b[31mred\\nfake: succeeded');
  // A run id Temporal cannot parse is bad input (exit 2) with Temporal's reason, not "Failed to describe workflow".
  const malformed = await drctl(['status', runId, '--run-id', 'not-a-uuid'], env);
  expect(malformed.code).toBe(2);
  expect(malformed.stderr).toMatch(/Invalid RunId.*drctl runs/);

  const runs = await drctl(
    ['runs', '--runbook', FLAG_ON_THEN_OFF, '--kind', 'failover', '--output', 'json'],
    env,
  );
  expect(runs.code).toBe(0);
  const listed = JSON.parse(runs.stdout) as Array<{ workflowId: string; kind: string; status: string }>;
  expect(listed).toEqual([
    expect.objectContaining({ workflowId: runId, kind: 'failover', status: 'COMPLETED' }),
  ]);

  const none = await drctl(['runs', '--runbook', FLAG_ON_THEN_OFF, '--kind', 'drill'], env);
  expect(none.stdout).toBe('no runs match\n');

  // A failover's report is its post-incident timeline (before: "renders drill reports", exit 2); the reason's
  // terminal escapes stay escaped there too, and a drill's format it has not is bad input naming the ones it has.
  const report = await drctl(['report', runId], env);
  expect(report.code).toBe(0);
  expect(report.stdout).toMatch(new RegExp(`^# SUCCEEDED: failover ${runId} of runbook ${FLAG_ON_THEN_OFF}`));
  expect(report.stdout).not.toContain(ESC);
  const junit = await drctl(['report', runId, '--format', 'junit'], env);
  expect({ code: junit.code, stderr: junit.stderr }).toEqual({
    code: 2,
    stderr: "drctl: --format junit: a failover's report is md or json\n",
  });
});

test('GIVEN a drill id THEN status shows the drill verdict instead of failing', async () => {
  // The reviewed copy: the worker runs only runbooks whose hash matches its catalog.
  const runbook = loadRunbookFile(join(dir, `${FLAG_ON_THEN_OFF}.json`));
  // A drill of a runbook that promotes nothing ends at once with its reason: a recorded drill result.
  const drillId = await startDrill(temporal, env.DRCTL_TASK_QUEUE as string, runbookDrill(runbook), {
    reason: 'e2e',
    signer: signerOf('alice'),
    action: 'fence-primary',
    canaryIntervalMs: 100,
    warmupMs: 0,
  });
  await temporal.workflow.getHandle(drillId).result();

  const status = await drctl(['status', drillId], env);
  expect(status.stderr).not.toMatch(/Cannot read properties/);
  expect(status.stdout).toMatch(new RegExp(`${drillId}: FAILED`));
  expect(status.stdout).toMatch(/promotes no database/);
  expect(status.code).toBe(1);

  const report = await drctl(['report', drillId], env);
  expect(report.code).toBe(0);
  expect(report.stdout).toMatch(/^# FAIL: drill /);

  const listed = await drctl(
    ['runs', '--kind', 'drill', '--runbook', FLAG_ON_THEN_OFF, '--since', '1h'],
    env,
  );
  expect(listed.stdout).toContain(drillId);
  // A header, and columns sized to their cells: every run id starts under RUN ID (before: no header, and a long
  // workflow id pushed its row's columns to the right).
  const lines = listed.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^WORKFLOW ID +RUN ID +KIND +RUNBOOK +STATUS +OUTCOME +STARTED +TOOK +BY$/);
  const runIdAt = lines[0]!.indexOf('RUN ID');
  for (const line of lines.slice(1)) expect(line.slice(runIdAt)).toMatch(/^[0-9a-f-]{36} /);

  // Piped into a reader that is gone before drctl writes (`| head` after its lines, here `| true`): drctl stops
  // quietly (before: an EPIPE stack trace).
  const piped = await new Promise<{ stderr: string; code: number }>((done) => {
    execFile(
      'bash',
      ['-o', 'pipefail', '-c', `'${process.execPath}' '${DRCTL}' runs --since 1h | true`],
      { env },
      (error, _stdout, stderr) => done({ stderr, code: error ? Number(error.code ?? 1) : 0 }),
    );
  });
  expect(piped.stderr).toBe('');
  // Under pipefail the pipeline reports drctl's own status: runs had done its work, 0 (before: 1, the crash).
  expect(piped.code).toBe(0);
});

test('GIVEN bad filters THEN runs names the option and what is allowed', async () => {
  const since = await drctl(['runs', '--since', 'yesterday'], env);
  expect(since.code).toBe(2);
  expect(since.stderr).toMatch(/--since must be a duration .* or a date/);
  const kind = await drctl(['runs', '--kind', 'rollout'], env);
  expect(kind.code).toBe(2);
  expect(kind.stderr).toMatch(/Allowed choices are failover, failback, drill, plan/);
});
