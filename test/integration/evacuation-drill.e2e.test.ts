import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import type { EvacuationProgress } from '../../evacuations/evacuation-types';
import type { RunSummary } from '../../cli/runs';
import { RDS_REPLICA } from '../../sandbox/rds-seed';
import { operatorPaths } from '../../sandbox/operator-seed';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { EvacuationDrillResult, EvacuationHeld } from '../../workflows/evacuation-drill-types';
import type { FailoverResult } from '../../workflows/run-types';
import { Client, Connection } from '@temporalio/client';
import { drillInput, evacuationDrill } from '../../cli/drill-runs';
import { startedRunId } from '../../cli/run-ids';
import { findEvacuation } from '../../evacuations/catalog';
import {
  asOperator,
  catalogDir,
  drctl,
  drctlEnv,
  drctlUntilAccepted,
  startWorkerProcess,
  stopProcess,
} from './drctl-process';
import { signerOf } from './operators';
import { sandboxDataConverter } from './sandbox-data-converter';
import { recordValue, sql } from './estate-readers';
import { dnsRunbook, signalHandled } from './evacuation-fixtures';
import { evacuationHeldSignal } from '../../workflows/evacuation';
import { releaseSignal } from '../../workflows/operator-decision';

/**
 * `drctl drill run <evacuation>` on the real local stack, through the real CLI and worker: the us-east-1
 * evacuation (ehr-db on PostgreSQL, then patient-portal-rds on RDS after an approval) is drilled as a whole. The
 * failure is injected into both primaries, the evacuation runs its waves with real effects, and the report holds
 * each service's measured RTO and RPO against its own objectives, the waves and the total time; an RPO the drill
 * has no way to measure (the RDS pair names no PostgreSQL connection) is N/A. Operators without the drill
 * permission on the evacuation, or without failover on one of its runbooks, are refused with nothing started.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let evacuationsDir: string;
let connection: Connection | undefined;

async function evacuationOf(workflowId: string): Promise<EvacuationProgress> {
  const status = await drctl(['status', workflowId, '--output', 'json'], env);
  expect(status.stderr).toBe('');
  return JSON.parse(status.stdout) as EvacuationProgress;
}

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `evacuation-drill-${randomUUID()}`);
  // The demo policy, plus carol: she may drill the us-east-1 evacuation and fail over ehr-db, not the portal.
  const policy = JSON.parse(readFileSync(operatorPaths.policyFile, 'utf8')) as {
    permissions: Array<Record<string, unknown>>;
  };
  policy.permissions.push(
    { runbooks: ['us-east-1'], operators: ['carol'], groups: [], allow: ['drill'] },
    { runbooks: ['ehr-db'], operators: ['carol'], groups: [], allow: ['failover'] },
  );
  const policyFile = join(mkdtempSync(join(tmpdir(), 'drctl-policy-')), 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  env.DRCTL_POLICY_FILE = policyFile;
  // A reviewed evacuation of the test's own, for the worker and the CLI: ehr-db alone, no approval gate.
  evacuationsDir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  writeFileSync(
    join(evacuationsDir, 'ehr-only.json'),
    JSON.stringify({
      id: 'ehr-only',
      title: 'EHR alone',
      waves: [{ id: 'databases', runbooks: ['ehr-db'] }],
    }),
  );
  env.DRCTL_EVACUATIONS_DIR = evacuationsDir;
  // The operator's copies of the reviewed runbooks the test adds, where the CLI looks up an evacuation's runbooks.
  env.DRCTL_RUNBOOKS_DIR = catalogDir(env);
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await drctl(['drill', 'delete', 'ehr-only'], env);
  await stopProcess(worker);
  await connection?.close();
  await resetStack();
});

test('operators without the drill permission on the evacuation, or failover on one of its runbooks, are refused', async () => {
  const since = new Date().toISOString();
  const dave = await drctl(['drill', 'run', 'us-east-1', '--reason', 'not mine'], asOperator(env, 'dave'));
  expect(dave.code).toBe(4);
  expect(dave.stderr).toContain('not permitted');

  const carol = await drctl(
    ['drill', 'run', 'us-east-1', '--reason', 'half of it'],
    asOperator(env, 'carol'),
  );
  expect(carol.code).toBe(4);
  expect(carol.stderr).toContain('carol may not fail over waves[1].runbooks[0] (patient-portal-rds)');
  expect(carol.stderr).toContain('a drill of an evacuation needs failover on every runbook it runs');

  // Nothing started: no failover of either runbook, and the estate is as seeded.
  const runs = JSON.parse(
    (await drctl(['runs', '--since', since, '--output', 'json'], env)).stdout,
  ) as RunSummary[];
  // The refused drills are recorded as such; no evacuation or failover started.
  expect(runs.map((run) => `${run.kind}:${run.initiator}:${run.outcome}`).sort()).toEqual([
    'drill:carol:refused',
    'drill:dave:refused',
  ]);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');

  // Each refusal has its evidence bundle, as a refused failover does (before: the ledger dropped the request:
  // "never loaded a reviewed evacuation … nothing to bundle but its refusal").
  for (const run of runs) {
    let shown = await drctl(['evidence', 'show', run.workflowId, '--output', 'json'], env);
    for (let tries = 0; shown.code !== 0 && tries < 120; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      shown = await drctl(['evidence', 'show', run.workflowId, '--output', 'json'], env);
    }
    const [bundle] = JSON.parse(shown.stdout) as Array<{ manifest: { run: Record<string, unknown> } }>;
    expect(bundle?.manifest.run).toMatchObject({ kind: 'drill', outcome: 'refused', runbookId: 'us-east-1' });
  }
});

test('a drill of the us-east-1 evacuation measures every service against its own objectives', async () => {
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  const started = await drctl(
    ['drill', 'run', 'us-east-1', '--reason', 'Q4 region drill', '--warmup', '5s', '--output', 'json'],
    env,
  );
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  const { drillId } = JSON.parse(started.stdout) as { drillId: string };
  // `drill run` answers once the drill verified its start, during the warm-up (before: at the drill's end or a
  // minute in, whichever came first): nothing has failed over yet.
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  const evacuationId = `${drillId}-evacuation`;

  // The second wave waits for its approval: by then the first wave's effects are real.
  let progress = await waitForEvacuation(drillId, (p) => p.awaiting.some((gate) => gate.stepId === 'portal'));
  expect(progress.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'ehr-db:succeeded',
    'patient-portal-rds:waiting',
  ]);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(false);
  // The portal's failover already holds its runbook's lock, held: a failover of it now is refused.
  const busy = await drctl(['failover', 'patient-portal-rds', '--reason', 'meanwhile', '--yes'], env);
  expect(busy.code).toBe(4);

  const approved = await drctl(
    ['approve', evacuationId, '--step', 'portal', '--reason', 'EHR serves from us-west-2'],
    asOperator(env, 'bob'),
  );
  expect(approved.stderr).toBe('');
  expect(approved.code).toBe(0);
  progress = await waitForEvacuation(drillId, (p) => p.status !== 'running' && p.status !== 'paused');
  expect(progress.status).toBe('succeeded');

  const result = await drillResult(drillId);
  expect(result.error).toBeUndefined();
  expect(result.evacuationId).toBe('us-east-1');
  expect(result.evacuation).toMatchObject({ workflowId: evacuationId, status: 'succeeded' });
  expect(result.services.map((s) => `${s.runbookId}:${s.wave}:${s.state}`)).toEqual([
    'ehr-db:databases:succeeded',
    'patient-portal-rds:portal:succeeded',
  ]);
  const [ehr, portal] = result.services as [
    EvacuationDrillResult['services'][number],
    EvacuationDrillResult['services'][number],
  ];
  // ehr-db: a real canary on the PostgreSQL primary, a fence injected, a write through the switched name.
  expect(ehr.injection.summary).toContain('fenced');
  expect(ehr.canary?.acknowledged).toBeGreaterThan(3);
  expect(ehr.dataLoss?.lostRows).toBe(0);
  expect(ehr.measured.rtoMs).toBeGreaterThan(0);
  expect(ehr.measured.rtoMs).toBeLessThan(ehr.objectives.rtoMs);
  expect(ehr.measured.rpoMs).not.toBeNull();
  expect(ehr.verdicts.map((v) => `${v.objective}:${v.passed}`)).toEqual(['RTO:true', 'RPO:true']);
  expect(ehr.criticalPath.map((step) => step.stepId)).toContain('promote-replica');
  // A drill's first wave reads once released, after the injection: a pre-flight made while held would not see it.
  const ehrRun = JSON.parse(
    (await drctl(['status', 'failover-ehr-db', '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect(ehrRun.timeline[0]).toMatchObject({ stepId: 'preflight', status: 'succeeded' });
  expect(ehrRun.timeline[0]?.facts?.readWhileHeld).toBeUndefined();
  // patient-portal-rds: the fence security group injected; restored when its failover ended (no probe), after
  // the approval; its RPO cannot be measured (no PostgreSQL connection named), so it is N/A, not a pass.
  expect(portal.injection.summary).toMatch(/drctl-fence-deny-all|fence/);
  expect(portal.measured.rtoMs).toBeGreaterThan(ehr.measured.rtoMs as number);
  expect(portal.measured.rpoMs).toBeNull();
  const portalRpo = portal.verdicts.find((v) => v.objective === 'RPO');
  expect(portalRpo?.passed).toBe(false);
  expect(portalRpo?.notMeasured).toContain('primary.connection');
  expect(portal.passed).toBe(true);
  expect(result.passed).toBe(true);

  // The replica is the portal's primary now and the portal's name points at it.
  const rds = new RDSClient({
    region: RDS_REPLICA.region,
    endpoint: stack.moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const described = await rds.send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: RDS_REPLICA.instanceId }),
  );
  expect(described.DBInstances?.[0]?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
  expect(await recordValue(stack, 'portal-db.sandbox.drctl.internal.')).toBe(
    described.DBInstances?.[0]?.Endpoint?.Address,
  );

  // Wave timings from the first injection; the evacuation's total time; every service restored.
  const [databases, portalWave] = result.waves;
  expect(databases).toMatchObject({ id: 'databases', services: ['ehr-db'] });
  expect(portalWave).toMatchObject({ id: 'portal', services: ['patient-portal-rds'], approvedBy: 'bob' });
  expect(databases?.startMs).toBeGreaterThanOrEqual(0);
  expect(portalWave?.startMs).toBeGreaterThanOrEqual(databases?.endMs as number);
  // Each service's RTO runs from its own injection; the whole evacuation's from the first one.
  expect(result.restoredAllMs).toBe(
    Date.parse(portal.restoredAt as string) - Date.parse(result.injectedAt as string),
  );
  expect(result.restoredAllMs).toBeGreaterThanOrEqual(portal.measured.rtoMs as number);
  expect(result.evacuationMs).toBeGreaterThan(0);
  expect(result.operatorActions.map((a) => `${a.action}:${a.operator}`)).toEqual([
    'start:alice',
    'approve:bob',
  ]);

  // Reports, status and runs work for it.
  const markdown = await drctl(['report', drillId, '--format', 'md'], env);
  expect(markdown.code).toBe(0);
  expect(markdown.stdout).toMatch(/^# PASS: drill .* of evacuation us-east-1/);
  expect(markdown.stdout).toMatch(
    /\| patient-portal-rds \| portal \| succeeded \| .* \| \*\*PASS\*\* \| N\/A \/ 5m \| \*\*N\/A\*\* \| \*\*PASS\*\* \|/,
  );
  expect(markdown.stdout).toContain('## Service ehr-db (wave databases): PASS');
  // The portal has no write probe: its RTO ends at its failover's end, and the report says so (before: every
  // service "to the first write through the switched name").
  expect([ehr.restoredBy, portal.restoredBy]).toEqual(['write-probe', 'failover-end']);
  expect(markdown.stdout).toMatch(
    /- Measured, for ehr-db: RTO from when the injection began to the first write through the switched name,/,
  );
  expect(markdown.stdout).toMatch(
    /- Measured, for patient-portal-rds: RTO from when the injection began to the failover.s end \(the runbook has no write probe/,
  );
  const junit = await drctl(['report', drillId, '--format', 'junit'], env);
  expect(junit.stdout.match(/<testsuite /g)).toHaveLength(3);
  expect(junit.stdout).not.toContain('<failure');
  const json = JSON.parse((await drctl(['report', drillId, '--format', 'json'], env)).stdout) as {
    services: Array<{ runbookId: string; contingencyTest: { results: Array<{ verdict: string }> } }>;
  };
  expect(json.services.map((s) => s.contingencyTest.results.map((r) => r.verdict).join(','))).toEqual([
    'met,met',
    'met,not applicable',
  ]);
  const html = await drctl(['report', drillId, '--format', 'html'], env);
  expect(html.stdout).toMatch(/^<!DOCTYPE html>/);
  expect(html.stdout).toContain('data-service="patient-portal-rds" data-passed="true"');
  const status = await drctl(['status', drillId], env);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/PASSED \(evacuation us-east-1, fence-primary; every service restored in/);
  // Every signed action of the drill, its evacuation and the services' runs re-verifies (before: a TypeError).
  const verified = await drctl(['verify-run', drillId, '--policy', env.DRCTL_POLICY_FILE as string], env);
  expect(verified.stderr).toBe('');
  expect(verified.code).toBe(0);
  expect(verified.stdout.split('\n').filter((line) => /^\S+:$/.test(line))).toEqual([
    `${drillId}:`,
    `${evacuationId}:`,
    ...result.services.map((service) => `${service.failover.workflowId}:`),
  ]);
  const runs = JSON.parse(
    (await drctl(['runs', '--kind', 'drill', '--runbook', 'us-east-1', '--output', 'json'], env)).stdout,
  ) as RunSummary[];
  expect(runs.find((run) => run.workflowId === drillId)).toMatchObject({
    workflowType: 'evacuationDrillWorkflow',
    outcome: 'passed',
  });
  // Its evidence bundle: the reviewed evacuation as signed, every report, the evacuation's history.
  const bundle = await evidenceOf(drillId);
  expect(bundle.run).toMatchObject({
    kind: 'drill',
    workflowType: 'evacuationDrillWorkflow',
    outcome: 'passed',
    runbookId: 'us-east-1',
    runbookSha256: result.evacuationHash,
  });
  expect(bundle.run.children.map((child) => child.workflowId)).toEqual([evacuationId]);
  expect(bundle.files.map((file) => file.path)).toEqual(
    expect.arrayContaining(['evacuation.json', 'reports/report.html', 'reports/report.junit.xml']),
  );
  // A drill of an evacuation and its children, under their own lock ids, are listed as such.
  const evacuations = JSON.parse(
    (await drctl(['runs', '--kind', 'evacuation', '--runbook', 'us-east-1', '--output', 'json'], env)).stdout,
  ) as RunSummary[];
  expect(evacuations.map((run) => run.workflowId)).toContain(evacuationId);
}, 420_000);

test('a drill whose evacuation an operator aborts during the warm-up stops, injecting nothing into any database', async () => {
  // The drill before this one left the estate failed over: a drill of it would stop at its pre-flight.
  stack = await resetStack();
  const started = await drctl(
    [
      'drill',
      'run',
      'us-east-1',
      '--reason',
      'region drill called off',
      '--warmup',
      '60s',
      '--output',
      'json',
    ],
    env,
  );
  expect(started.code).toBe(0);
  const { drillId } = JSON.parse(started.stdout) as { drillId: string };
  // The abort of the drill goes to the evacuation it holds.
  const aborted = await drctlUntilAccepted(['abort', drillId, '--reason', 'region drill called off'], env);
  expect({ code: aborted.code, stderr: aborted.stderr }).toEqual({
    code: 0,
    stderr: expect.stringContaining(`acting on the run it holds, ${drillId}-evacuation`),
  });

  const ended = await drctl(['status', drillId, '--follow', '--output', 'json'], env);
  const result = JSON.parse(ended.stdout) as EvacuationDrillResult;
  // Before: the drill went on and, at the end of its warm-up, fenced every primary with no evacuation left.
  expect(result.error).toMatch(/evacuation ended before the failure was injected.*nothing was injected/);
  expect(result.passed).toBe(false);
  // Called off, not failed (before: outcome "failed"): who, when and why, in history too.
  expect(result.calledOff).toMatchObject({ by: 'alice', reason: 'region drill called off' });
  const history = JSON.parse(
    (await drctl(['drill', 'history', 'us-east-1', '--output', 'json'], env)).stdout,
  ) as Array<{ drillId: string; outcome?: string }>;
  expect(history.find((entry) => entry.drillId === drillId)).toMatchObject({ outcome: 'called-off' });
  const [role] = await sql<{ canLogin: boolean }>(
    stack.postgres.primaryUrl,
    'select rolcanlogin as "canLogin" from pg_roles where rolname = \'ehr_app\'',
  );
  expect(role?.canLogin).toBe(true);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
});

test('a schedule drills an evacuation on its standing signed statement', async () => {
  await resetStack();
  const created = await drctl(
    [
      'drill',
      'schedule',
      'ehr-only',
      '--cron',
      '0 9 15 */3 *',
      '--reason',
      'quarterly region drill',
      '--output',
      'json',
    ],
    env,
  );
  expect(created.stderr).toBe('');
  expect(JSON.parse(created.stdout)).toMatchObject({ scheduleId: 'drill-ehr-only' });
  type Entry = { drillId: string; status: string; outcome?: string; rtoMs?: number; rpoMs?: number };
  const drillsOf = async (): Promise<Entry[]> =>
    JSON.parse((await drctl(['drill', 'history', 'ehr-only', '--output', 'json'], env)).stdout) as Entry[];
  const before = new Set((await drillsOf()).map((drill) => drill.drillId));
  expect((await drctl(['drill', 'trigger', 'ehr-only'], env)).code).toBe(0);
  let entry: Entry | undefined;
  while (entry?.status !== 'COMPLETED') {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    entry = (await drillsOf()).find((drill) => !before.has(drill.drillId));
    expect(entry?.status ?? 'RUNNING').toMatch(/RUNNING|COMPLETED/);
  }
  expect(entry).toMatchObject({ outcome: 'passed' });
  const report = JSON.parse((await drctl(['report', entry.drillId, '--format', 'json'], env)).stdout) as {
    authorization: { startedBy: string[] };
    restoredAllMs: number;
    services: Array<{ runbookId: string; measured: { rtoMs: number; rpoMs: number } }>;
  };
  // It started on the schedule's standing `schedule create` statement, checked by the worker at each level.
  expect(report.authorization.startedBy).toEqual(['drill-ehr-only']);
  expect(report.services.map((s) => s.runbookId)).toEqual(['ehr-db']);
  expect(entry.rtoMs).toBe(report.restoredAllMs);
  expect(entry.rpoMs).toBe(report.services[0]?.measured.rpoMs);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');

  // The same standing statement in an evacuation drill a client starts (anyone who may start workflows can read
  // the schedule's arguments) is refused before any lock or injection: the schedule's record does not name it.
  const own = await Connection.connect({ address: stack.temporal.address });
  try {
    const temporal = new Client({
      connection: own,
      namespace: stack.temporal.namespace,
      ...sandboxDataConverter(stack),
    });
    const { action } = await temporal.schedule.getHandle('drill-ehr-only').describe();
    const copied = await temporal.workflow.start('evacuationDrillWorkflow', {
      taskQueue: env.DRCTL_TASK_QUEUE as string,
      workflowId: `drill-ehr-only-client-${randomUUID()}`,
      args: [...(action.args ?? [])],
    });
    const outcome = await copied.result().then(
      (result: EvacuationDrillResult) => `accepted, injected at ${result.injectedAt}`,
      (error: Error) => (error.cause as Error | undefined)?.message ?? error.message,
    );
    expect(outcome).toMatch(
      /standing statement of schedule drill-ehr-only, .*was sent by a drill it did not start \(schedule drill-ehr-only's record .* does not name drill-ehr-only-client-/,
    );
    expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  } finally {
    await own.close();
  }
}, 420_000);

test('a drill that cannot take every runbook lock injects nothing and lets go of the locks it took', async () => {
  await resetStack();
  // A reviewed runbook whose failover waits at an approval, holding its runbook's lock meanwhile. Its id sorts
  // after ehr-db's: the evacuation takes ehr-db's lock first, so the test sees a lock taken and then let go.
  dnsRunbook(
    env,
    'gated-drill',
    { name: 'portal-db.sandbox.drctl.internal.', type: 'CNAME', value: 'gated.example.' },
    undefined,
    { approvalFirst: true },
  );
  writeFileSync(
    join(evacuationsDir, 'gated-pair.json'),
    JSON.stringify({
      id: 'gated-pair',
      title: 'EHR, then the gated service',
      waves: [
        { id: 'databases', runbooks: ['ehr-db'] },
        { id: 'apps', runbooks: ['gated-drill'] },
      ],
    }),
  );
  const holder = await drctl(['failover', 'gated-drill', '--reason', 'holds the lock', '--yes'], env);
  expect(holder.code).toBe(0);
  // The CLI refuses to start a drill over a running failover (exit 4, nothing started) ...
  const refused = await drctl(['drill', 'run', 'gated-pair', '--reason', 'overlap'], env);
  expect(refused.code).toBe(4);
  expect(refused.stderr).toContain('waves[1].runbooks[0]: a failover of gated-drill is running');

  // ... and a drill that slips past that check (a race) is stopped by the locks themselves, before any injection.
  connection = await Connection.connect({ address: stack.temporal.address });
  const temporal = new Client({
    connection,
    namespace: stack.temporal.namespace,
    ...sandboxDataConverter(stack),
  });
  // Started with a forged report: anyone who may signal sends the drill the report its evacuation sends once it
  // holds every lock, here before the drill's first task. The drill injects only on what the evacuation
  // recorded, so this changes nothing.
  const drillId = await startDrillDirectly(temporal, 'gated-pair', 'race past the CLI', 0, { held: true });
  const result = (await temporal.workflow.getHandle(drillId).result()) as EvacuationDrillResult;
  expect(result.passed).toBe(false);
  expect(result.injectedAt).toBeNull();
  expect(result.error).toMatch(
    /^nothing was injected: the drill could not take every runbook's lock: waves\[1\]\.runbooks\[0\]: gated-drill is held by failover-gated-drill/,
  );
  // Refused, not failed: it tested nothing (before: outcome `failed`, as if it had tested and missed).
  expect(result.refusal).toMatch(/^the drill could not take every runbook's lock: waves\[1\]/);
  const shown = await drctl(['status', drillId], env);
  expect(shown.stdout).toContain(`${drillId}: REFUSED (evacuation gated-pair`);
  expect(result.services.map((s) => `${s.runbookId}:${s.state}:${s.injection.summary}`)).toEqual([
    'ehr-db:skipped:not injected',
    'gated-drill:refused:not injected',
  ]);
  // ehr-db's failover, started held, was let go having changed nothing; the estate is as seeded.
  const ehr = JSON.parse((await drctl(['status', 'failover-ehr-db', '--output', 'json'], env)).stdout) as {
    status: string;
    timeline: Array<{ stepId: string; error?: { type: string } }>;
  };
  expect(ehr.status).toBe('failed');
  expect(ehr.timeline.map((entry) => `${entry.stepId}:${entry.error?.type}`)).toEqual(['hold:NotReleased']);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(true);
  // The failover that held its lock goes on as it was, waiting for its approval.
  const waiting = JSON.parse(
    (await drctl(['status', 'failover-gated-drill', '--output', 'json'], env)).stdout,
  ) as {
    status: string;
    awaiting: Array<{ stepId: string }>;
  };
  expect(waiting.awaiting.map((gate) => gate.stepId)).toEqual(['go-ahead']);
  expect((await drctl(['abort', 'failover-gated-drill', '--reason', 'test done'], env)).code).toBe(0);
}, 300_000);

/**
 * Starts a drill of the evacuation `plan` signed by alice (fence-primary) straight through the client, with
 * `signal` sent to it with the start (before its first task) when given; returns the drill's id.
 */
async function startDrillDirectly(
  temporal: Client,
  plan: string,
  reason: string,
  warmupMs: number,
  signal?: EvacuationHeld,
): Promise<string> {
  const loaded = findEvacuation(plan, [catalogDir(env)], [evacuationsDir]);
  if (loaded === undefined) throw new Error(`the test plan ${plan} did not load`);
  const drillId = startedRunId('drill', plan, new Date());
  const settings = {
    reason,
    signer: signerOf('alice'),
    action: 'fence-primary' as const,
    canaryIntervalMs: 100,
    warmupMs,
  };
  const start = {
    taskQueue: env.DRCTL_TASK_QUEUE as string,
    workflowId: drillId,
    args: [drillInput(evacuationDrill(loaded), settings, { action: 'drill', runId: drillId })],
  };
  if (signal === undefined) await temporal.workflow.start('evacuationDrillWorkflow', start);
  else
    await temporal.workflow.signalWithStart('evacuationDrillWorkflow', {
      ...start,
      signal: evacuationHeldSignal,
      signalArgs: [signal],
    });
  return drillId;
}

/** The run's evidence bundle once the ledger has written it (moments after the run closed). */
async function evidenceOf(runId: string): Promise<{
  run: {
    kind: string;
    workflowType: string;
    outcome: string;
    runbookId: string;
    runbookSha256: string;
    children: Array<{ workflowId: string }>;
  };
  files: Array<{ path: string }>;
}> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const shown = await drctl(['evidence', 'show', runId, '--output', 'json'], env);
    if (shown.code === 0)
      return (JSON.parse(shown.stdout) as Array<{ manifest: Awaited<ReturnType<typeof evidenceOf>> }>)[0]!
        .manifest;
    expect(Date.now()).toBeLessThan(deadline);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** The drill's evacuation once `until` holds; fails at once if the drill ended without it. */
async function waitForEvacuation(
  drillId: string,
  until: (progress: EvacuationProgress) => boolean,
): Promise<EvacuationProgress> {
  const workflowId = `${drillId}-evacuation`;
  for (;;) {
    const exists = await drctl(['status', workflowId, '--output', 'json'], env);
    // Until the drill has started it, its evacuation is not there to show.
    if (exists.code === 0) {
      const progress = await evacuationOf(workflowId);
      if (until(progress)) return progress;
      expect(progress.status).toMatch(/running|paused/);
    } else {
      const drill = await drctl(['status', drillId, '--output', 'json'], env);
      expect(JSON.parse(drill.stdout)).toMatchObject({ status: 'RUNNING' });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function drillResult(drillId: string): Promise<EvacuationDrillResult> {
  for (;;) {
    const status = await drctl(['status', drillId, '--output', 'json'], env);
    const parsed = JSON.parse(status.stdout) as EvacuationDrillResult | { status: string };
    if ('services' in parsed) return parsed;
    expect(parsed.status).toBe('RUNNING');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

test('a release signal the drill did not send leaves its evacuation held: nothing runs before the failure is injected', async () => {
  await resetStack();
  connection ??= await Connection.connect({ address: stack.temporal.address });
  const temporal = new Client({
    connection,
    namespace: stack.temporal.namespace,
    ...sandboxDataConverter(stack),
  });
  // Straight through the client: the CLI's start returns only once the drill's verdict is in, after the hold.
  const drillId = await startDrillDirectly(temporal, 'ehr-only', 'forged release', 5_000);
  const evacuationId = `${drillId}-evacuation`;
  // Held: every lock taken, waiting for the drill to inject (the warm-up runs meanwhile).
  await waitForEvacuation(drillId, (p) => p.services.every((s) => s.state === 'waiting'));
  // Once the evacuation has told the drill it holds every lock, the drill injects after its warm-up.
  for (;;) {
    const events = (await temporal.workflow.getHandle(drillId).fetchHistory()).events ?? [];
    if (events.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'evacuationHeld'))
      break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await temporal.workflow.getHandle(evacuationId).signal(releaseSignal, {
    operator: `drill ${drillId}`,
    reason: 'failure injected',
    proceed: true,
  });
  await signalHandled(temporal, evacuationId);
  const meanwhile = await evacuationOf(evacuationId);
  expect(meanwhile.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual(['ehr-db:waiting']);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');

  // The drill releases it once the failure is injected: the failover runs after the injection.
  const result = await drillResult(drillId);
  expect(result.injectedAt).not.toBeNull();
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual(['ehr-db:succeeded']);
  const evacuation = await evacuationOf(evacuationId);
  expect((evacuation.services[0]?.startedAt ?? '') >= (result.injectedAt as string)).toBe(true);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
}, 300_000);

test('a drill of an evacuation terminated outside drctl: status and report give the reason it has no result', async () => {
  stack = await resetStack();
  const started = await drctl(
    ['drill', 'run', 'ehr-only', '--reason', 'ended by hand', '--warmup', '60s', '--output', 'json'],
    env,
  );
  expect(started.code).toBe(0);
  const { drillId } = JSON.parse(started.stdout) as { drillId: string };
  const reason = 'the drill window closed (temporal workflow terminate)';
  connection ??= await Connection.connect({ address: stack.temporal.address });
  const temporal = new Client({
    connection,
    namespace: stack.temporal.namespace,
    ...sandboxDataConverter(stack),
  });
  // Once the drill holds its evacuation (a child it abandons when it closes), an operator terminates the drill.
  for (let tries = 0; tries < 100; tries++) {
    const held = await temporal.workflow
      .getHandle(`${drillId}-evacuation`)
      .describe()
      .catch(() => undefined);
    if (held?.parentExecution?.workflowId === drillId && held.status.name === 'RUNNING') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await temporal.workflow.getHandle(drillId).terminate(reason);

  // Before: the client's words, "Workflow execution terminated", with no reason and no who.
  // Status and report say the same: how it ended, why, and that nothing was measured.
  for (const command of [
    ['status', drillId],
    ['report', drillId],
  ]) {
    const shown = await drctl(command, env);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain(
      `${drillId} ended terminated without a result: ${reason}. Nothing was measured, so there is no report`,
    );
  }

  // The evacuation it held sees the drill gone and ends, having started no service, saying why (before: it failed
  // without a result, "Unable to signal external workflow because it was not found").
  const left = await drctl(['status', `${drillId}-evacuation`, '--follow', '--output', 'json'], env);
  const evacuation = JSON.parse(left.stdout) as EvacuationProgress;
  expect(evacuation.services.map((service) => `${service.runbookId}:${service.state}`)).toEqual([
    'ehr-db:skipped',
  ]);
  // Gone before the evacuation reported holding its locks, or after, while it waited for the release.
  expect(evacuation.services[0]?.detail).toMatch(
    new RegExp(
      `^not started: (the drill ${drillId} ended before the evacuation reported holding the locks|${drillId} ended \\(terminated\\) without releasing)`,
    ),
  );
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
});
