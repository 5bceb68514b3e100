import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { Client, Connection } from '@temporalio/client';
import type { EvacuationProgress, EvacuationResult } from '../../evacuations/evacuation-types';
import { operatorPaths } from '../../sandbox/operator-seed';
import { resetStack } from '../../sandbox/stack';
import { RDS_REPLICA } from '../../sandbox/rds-seed';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue, sql } from './estate-readers';
import {
  stateAtClose,
  dnsRunbook as writeDnsRunbook,
  evacuationStatus as evacuationStatusOf,
} from './evacuation-fixtures';
import { sandboxDataConverter } from './sandbox-data-converter';

/**
 * `drctl evacuate` on the real local stack, through the real CLI and worker: waves run in order, a wave waits
 * for its approval, each runbook runs as a child failover under its own lock with real effects; a failed
 * service does not stop the others, a service that depends on it is skipped; bad and overlapping evacuations and
 * operators without the permissions are refused with nothing started.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let evacuationsDir: string;
let connection: Connection;
let temporal: Client;

/** A one-step runbook switching one CNAME to a literal value (after an approval), reviewed into the catalog. */
function dnsRunbook(id: string, name: string, value: string, zone?: string, approvalFirst = false): void {
  writeDnsRunbook(env, id, { name, type: 'CNAME', value }, zone, { approvalFirst });
}

function evacuationFile(id: string, body: Record<string, unknown>): void {
  writeFileSync(join(evacuationsDir, `${id}.json`), JSON.stringify({ id, title: id, ...body }));
}

/** A runbook whose DNS switch fails: its zone does not exist. */
function failingRunbook(id: string): void {
  dnsRunbook(id, 'www.no-such-zone.drctl.internal.', 'nowhere.example.', 'no-such-zone.drctl.internal.');
}

/** `drctl evacuate <plan> --follow --output json`: its exit code and the evacuation's result. */
async function evacuateFollowed(
  plan: string,
  reason: string,
): Promise<{ code: number; result: EvacuationResult }> {
  const run = await drctl(
    ['evacuate', plan, '--reason', reason, '--yes', '--follow', '--output', 'json'],
    env,
  );
  return { code: run.code, result: JSON.parse(run.stdout) as EvacuationResult };
}

function evacuationStatus(workflowId: string): Promise<EvacuationProgress> {
  return evacuationStatusOf(env, workflowId);
}

async function waitFor(
  workflowId: string,
  until: (progress: EvacuationProgress) => boolean,
): Promise<EvacuationProgress> {
  for (;;) {
    const progress = await evacuationStatus(workflowId);
    if (until(progress)) return progress;
    expect(progress.status).toMatch(/running|paused/);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `evacuation-${randomUUID()}`);
  evacuationsDir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  env.DRCTL_EVACUATIONS_DIR = evacuationsDir;
  // The operator's copies of the reviewed runbooks the test adds, where the CLI looks up an evacuation's runbooks.
  env.DRCTL_RUNBOOKS_DIR = catalogDir(env);
  worker = await startWorkerProcess(env);
  connection = await Connection.connect({ address: stack.temporal.address });
  temporal = new Client({ connection, namespace: stack.temporal.namespace, ...sandboxDataConverter(stack) });
});

afterAll(async () => {
  await stopProcess(worker);
  await connection?.close();
  await resetStack();
});

test('drctl evacuate us-east-1 runs its waves on the real stack, the second after its approval', async () => {
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  const started = await drctl(
    ['evacuate', 'us-east-1', '--reason', 'INC-7001 us-east-1 outage', '--yes', '--output', 'json'],
    env,
  );
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };

  // A second evacuation over the same runbooks is refused while this one runs, naming the field.
  const twice = await drctl(['evacuate', 'us-east-1', '--reason', 'again', '--yes'], env);
  expect(twice.code).toBe(4);
  expect(twice.stderr).toContain('waves[0].runbooks[0]: ehr-db is in evacuation');

  // Followed in text without a terminal (CI, a pipe): one line per change, started before the wave waits.
  const followedInText = drctl(['status', workflowId, '--follow'], env);
  const gated = await waitFor(workflowId, (p) => p.awaiting.some((gate) => gate.stepId === 'portal'));
  expect(gated.services.map((s) => `${s.runbookId}:${s.state}${s.detail ? ` (${s.detail})` : ''}`)).toEqual([
    'ehr-db:succeeded',
    'patient-portal-rds:waiting',
  ]);
  // The first wave's effects are real: the replica is a writable primary and the record points at it.
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(false);

  // A gate that is not the one waiting is bad input naming --step and the gate that waits (before: exit 4, the
  // run's rejection).
  const misnamed = await drctl(
    ['approve', workflowId, '--step', 'portl', '--reason', 'typo'],
    asOperator(env, 'bob'),
  );
  expect(misnamed.code).toBe(2);
  expect(misnamed.stderr).toContain(
    `--step portl: no such step of ${workflowId} is waiting for an approval; it is: portal`,
  );

  // An evacuation has no paused step of its own: a decision on it is bad input naming where decisions go
  // (before: "No registered handler for update: decide").
  const decided = await drctl(
    ['decide', workflowId, 'portal', 'skip', '--reason', 'wrong place'],
    asOperator(env, 'bob'),
  );
  expect(decided.code).toBe(2);
  expect(decided.stderr).toContain(`${workflowId} is an evacuation: its services' failovers pause`);

  // dave may only plan: his approval is refused by the access policy; bob's is accepted.
  const refused = await drctl(
    ['approve', workflowId, '--step', 'portal', '--reason', 'looks fine'],
    asOperator(env, 'dave'),
  );
  expect(refused.code).toBe(4);
  expect(refused.stderr).toContain('not permitted');
  const approved = await drctl(
    ['approve', workflowId, '--step', 'portal', '--reason', 'EHR serves from us-west-2'],
    asOperator(env, 'bob'),
  );
  expect(approved.stderr).toBe('');
  expect(approved.code).toBe(0);

  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  expect(followed.code).toBe(0);
  // It said what the wave waited for and what to run (before: the line was drawn only on a terminal, and the
  // follow sat silent).
  const text = await followedInText;
  expect(text.code).toBe(0);
  expect(text.stderr).toContain(
    `⏸ wave portal waits for an approval: drctl approve ${workflowId} --step portal --reason "…"`,
  );
  const result = JSON.parse(followed.stdout) as EvacuationResult;
  expect(result.status).toBe('succeeded');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}:${s.stepsDone}/${s.totalSteps}`)).toEqual([
    'ehr-db:succeeded:7/7',
    'patient-portal-rds:succeeded:6/6',
  ]);
  expect(result.operatorActions.map((a) => `${a.action}:${a.operator}:${a.signed ? 'signed' : '-'}`)).toEqual(
    ['start:alice:signed', 'approve:bob:signed'],
  );
  // Closed: every wave settled, the last one included (it showed "running" after the end), nothing to approve.
  expect(result.waves.map((wave) => `${wave.id}:${wave.state}`)).toEqual([
    'databases:settled',
    'portal:settled',
  ]);
  expect(result.awaiting).toEqual([]);
  const rds = new RDSClient({
    region: RDS_REPLICA.region,
    endpoint: stack.moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const described = await rds.send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: RDS_REPLICA.instanceId }),
  );
  expect(described.DBInstances?.[0]?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
  const portal = await recordValue(stack, 'portal-db.sandbox.drctl.internal.');
  expect(portal).toBe(described.DBInstances?.[0]?.Endpoint?.Address);

  // Each child ran under its runbook's lock, as a failover of its own that names the evacuation.
  const child = await drctl(['status', result.services[0]!.workflowId!, '--output', 'json'], env);
  const childResult = JSON.parse(child.stdout) as { status: string; reason: string; initiator: string };
  expect(childResult).toMatchObject({ status: 'succeeded', initiator: 'alice' });
  expect(childResult.reason).toContain(workflowId);
  // Its saved status verifies offline: its start is the evacuation's (before: NOT verified, "signed for runbook
  // us-east-1, the run is ehr-db").
  const saved = join(mkdtempSync(join(tmpdir(), 'drctl-child-')), 'child.json');
  writeFileSync(saved, child.stdout);
  const verified = await drctl(['verify-run', '--file', saved, '--policy', operatorPaths.policyFile], env);
  expect(verified.stdout).toMatch(
    new RegExp(`ok +#0 start by alice: .* in the start of ${workflowId} \\(evacuation us-east-1\\)`),
  );
  expect(verified.code).toBe(0);

  // By id, the evacuation's own actions and each of its services' runs are verified (before: only its own).
  const whole = await drctl(['verify-run', workflowId, '--policy', operatorPaths.policyFile], env);
  expect(whole.code).toBe(0);
  const verifiedRuns = whole.stdout.split('\n').filter((line) => /^\S+:$/.test(line));
  expect(verifiedRuns).toEqual([
    `${workflowId}:`,
    ...result.services.map((service) => `${service.workflowId}:`),
  ]);
  expect(whole.stdout).toMatch(/ok +#1 approve portal by bob/);
  const lines = whole.stdout.split('\n');
  for (const service of result.services) {
    const under = lines[lines.indexOf(`${service.workflowId}:`) + 1];
    expect(under).toMatch(
      new RegExp(`^  ok +#0 start by alice: .* in the start of ${workflowId} \\(evacuation us-east-1\\)$`),
    );
  }

  const table = await drctl(['status', workflowId], env);
  expect(table.stdout).toMatch(/SERVICE\s+WAVE\s+STEP\s+ELAPSED\s+STATE/);
  expect(table.stdout).toMatch(/patient-portal-rds\s+portal\s+6\/6 steps/);
});

test('a failed service does not stop the others; one that depends on it is skipped; the evacuation fails', async () => {
  failingRunbook('evac-broken');
  dnsRunbook('evac-portal-dns', 'portal-db.sandbox.drctl.internal.', 'portal.us-west-2.example.');
  dnsRunbook('evac-after-broken', 'portal-db.sandbox.drctl.internal.', 'never.example.');
  evacuationFile('policy-test', {
    waves: [
      { id: 'first', runbooks: ['evac-broken', 'evac-portal-dns'], concurrency: 1 },
      { id: 'second', runbooks: [{ runbook: 'evac-after-broken', dependsOn: ['evac-broken'] }] },
    ],
  });
  const { code, result } = await evacuateFollowed('policy-test', 'policy e2e');
  expect(code).toBe(1);
  expect(result.status).toBe('failed');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'evac-broken:failed',
    'evac-portal-dns:succeeded',
    'evac-after-broken:skipped',
  ]);
  expect(result.services[2]?.detail).toContain('evac-broken, which it depends on, ended failed');
  expect(await recordValue(stack, 'portal-db.sandbox.drctl.internal.')).toBe('portal.us-west-2.example.');
});

test('an evacuation closes once it has seen each of its failovers close: it leaves no watch running', async () => {
  dnsRunbook('evac-close-a', 'portal-db.sandbox.drctl.internal.', 'close-a.example.');
  dnsRunbook('evac-close-b', 'portal-db.sandbox.drctl.internal.', 'close-b.example.');
  evacuationFile('close-test', {
    waves: [{ id: 'only', runbooks: ['evac-close-a', 'evac-close-b'], concurrency: 1 }],
  });
  const { code, result } = await evacuateFollowed('close-test', 'close e2e');
  expect(code).toBe(0);
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'evac-close-a:succeeded',
    'evac-close-b:succeeded',
  ]);
  // Before, it closed on its last failover's close while its watch of that failover was still running: the watch's
  // answer, arriving as the closing task completed, had Temporal refuse that task (UnhandledCommand), and the worker
  // replayed the whole history to close again.
  const { outstanding, failedTasks } = await stateAtClose(temporal, result.workflowId);
  expect(outstanding).toEqual([]);
  expect(failedTasks).toBe(0);
});

test('an evacuation that stops on failure skips what it held back, in its wave and the next, and ends', async () => {
  failingRunbook('evac-stop-broken');
  dnsRunbook('evac-stop-held', 'portal-db.sandbox.drctl.internal.', 'held.example.');
  dnsRunbook('evac-stop-later', 'portal-db.sandbox.drctl.internal.', 'later.example.');
  evacuationFile('stop-test', {
    onServiceFailure: 'stop',
    waves: [
      { id: 'first', runbooks: ['evac-stop-broken', 'evac-stop-held'], concurrency: 1 },
      { id: 'second', runbooks: ['evac-stop-later'] },
    ],
  });
  const before = await recordValue(stack, 'portal-db.sandbox.drctl.internal.');
  // Before: the held-back service blocked as the next wave stayed closed, and the evacuation never ended.
  const { code, result } = await evacuateFollowed('stop-test', 'stop e2e');
  expect(code).toBe(1);
  expect(result.status).toBe('failed');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'evac-stop-broken:failed',
    'evac-stop-held:skipped',
    'evac-stop-later:skipped',
  ]);
  expect(result.services[1]?.detail).toContain('a service failed and this evacuation stops on failure');
  expect(await recordValue(stack, 'portal-db.sandbox.drctl.internal.')).toBe(before);
});

test('an evacuation that stops on failure holds back, but does not skip, what follows a service paused at its approval', async () => {
  dnsRunbook('evac-stop-gated', 'portal-db.sandbox.drctl.internal.', 'stop-gated.example.', undefined, true);
  dnsRunbook('evac-stop-after', 'portal-db.sandbox.drctl.internal.', 'stop-after.example.');
  evacuationFile('stop-gated-test', {
    onServiceFailure: 'stop',
    waves: [
      { id: 'first', runbooks: ['evac-stop-gated'] },
      { id: 'second', runbooks: ['evac-stop-after'] },
    ],
  });
  const started = await drctl(
    ['evacuate', 'stop-gated-test', '--reason', 'stop gated e2e', '--yes', '--output', 'json'],
    env,
  );
  expect(started.code).toBe(0);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
  const paused = await waitFor(
    workflowId,
    (p) => p.services[0]?.state === 'paused' && p.services[1]?.state !== 'waiting',
  );
  // Held back while the first service waits for its approval (before: skipped for good).
  expect(paused.services[1]?.state).toBe('blocked');

  const approved = await drctl(
    ['approve', paused.services[0]!.workflowId!, '--step', 'go-ahead', '--reason', 'go'],
    asOperator(env, 'bob'),
  );
  expect(approved.code).toBe(0);
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  expect(followed.code).toBe(0);
  const result = JSON.parse(followed.stdout) as EvacuationResult;
  expect(result.status).toBe('succeeded');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'evac-stop-gated:succeeded',
    'evac-stop-after:succeeded',
  ]);
  // The second wave's failover ran after the first wave's had ended (before: it was let go as soon as the approval
  // resumed the first, and both switched the record at once).
  const [gated, after] = await Promise.all(
    result.services.map(
      async (service) =>
        JSON.parse(
          (await drctl(['status', service.workflowId!, '--run-id', service.runId!, '--output', 'json'], env))
            .stdout,
        ) as FailoverResult,
    ),
  );
  expect(Date.parse(after!.timeline[0]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(gated!.endedAt!));
  expect(await recordValue(stack, 'portal-db.sandbox.drctl.internal.')).toBe('stop-after.example.');
});

test('bad evacuations and operators without the permissions are refused, with nothing started', async () => {
  evacuationFile('unknown-runbook', { waves: [{ id: 'w', runbooks: ['ehr-db', 'ghost-runbook'] }] });
  const unknown = await drctl(['evacuate', 'unknown-runbook', '--reason', 'x', '--yes'], env);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('waves[0].runbooks[1]: no runbook "ghost-runbook"');

  evacuationFile('zero', { waves: [{ id: 'w', runbooks: ['ehr-db'], concurrency: 0 }] });
  const zero = await drctl(['evacuate', 'zero', '--reason', 'x', '--yes'], env);
  expect(zero.code).toBe(2);
  expect(zero.stderr).toContain('waves[0].concurrency');

  // A dry run starts and records nothing: it needs no reason (before: "--reason is required"); a start does.
  const dryRun = await drctl(['evacuate', 'us-east-1', '--dry-run'], env);
  expect(dryRun.stderr).toBe('');
  expect(dryRun.code).toBe(0);
  expect(dryRun.stdout).toContain('portal');
  const noReason = await drctl(['evacuate', 'us-east-1', '--yes'], env);
  expect(noReason.code).toBe(2);
  expect(noReason.stderr).toContain('--reason is required');

  // The shipped example copied elsewhere keeps its relative import: its own load error, and how to write it, not
  // "no evacuation" next to a list that names the file (before).
  const copied = join(mkdtempSync(join(tmpdir(), 'drctl-copied-')), 'copied.ts');
  copyFileSync(resolve(__dirname, '../../evacuations/examples/us-east-1.ts'), copied);
  const fromCopy = await drctl(['evacuate', copied, '--reason', 'x', '--dry-run'], env);
  expect(fromCopy.code).toBe(2);
  expect(fromCopy.stderr).toContain("Cannot find module '../define-evacuation'");
  expect(fromCopy.stderr).toContain("Outside drctl's folder, export the plain object");
  expect(fromCopy.stderr).not.toContain('no evacuation');

  // dave holds only `plan`: the worker refuses his signed evacuate before any child starts.
  dnsRunbook('evac-dave', 'portal-db.sandbox.drctl.internal.', 'dave.example.');
  evacuationFile('dns-only', { waves: [{ id: 'w', runbooks: ['evac-dave'] }] });
  const before = await recordValue(stack, 'portal-db.sandbox.drctl.internal.');
  const refused = await drctl(
    ['evacuate', 'dns-only', '--reason', 'not mine', '--yes'],
    asOperator(env, 'dave'),
  );
  expect(refused.code).toBe(4);
  expect(refused.stderr).toContain('not permitted');
  expect(await recordValue(stack, 'portal-db.sandbox.drctl.internal.')).toBe(before);
  const runs = await drctl(['runs', '--runbook', 'evac-dave', '--output', 'json'], env);
  expect(runs.code).toBe(0);
  expect(JSON.parse(runs.stdout)).toEqual([]);
  // The refused evacuation's own record says why it was refused (before: "Workflow execution failed").
  // (The newest: runs of earlier test runs on this Temporal server are listed too.)
  const [newest] = (
    JSON.parse(
      (await drctl(['runs', '--kind', 'evacuation', '--runbook', 'dns-only', '--output', 'json'], env))
        .stdout,
    ) as Array<{ workflowId: string; startedAt: string; initiator: string; outcome: string }>
  ).sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  expect(newest).toMatchObject({ initiator: 'dave', outcome: 'refused' });
  const refusedId = newest!.workflowId;
  const refusedStatus = await drctl(['status', refusedId], env);
  expect(refusedStatus.code).toBe(1);
  expect(refusedStatus.stderr).toContain('not permitted');
  // Refused, as `runs` lists it (before: "ended failed without a result").
  expect(refusedStatus.stderr).toContain(`${refusedId} was refused before it began; it changed nothing: `);
  const refusedReport = await drctl(['report', refusedId], env);
  expect(refusedReport.code).toBe(1);
  expect(refusedReport.stderr).toContain('not permitted');
  // An evacuation's report checks no signatures: --policy is refused, not silently ignored (before: exit 0).
  const withPolicy = await drctl(['report', refusedId, '--policy', '/nonexistent/policy.json'], env);
  expect(withPolicy.code).toBe(2);
  expect(withPolicy.stderr).toContain(`verify them with drctl verify-run ${refusedId} --policy`);
});

test('an abort signed for the evacuation is forwarded to its paused failover, which checks it and aborts; one its failover would refuse is refused up front', async () => {
  dnsRunbook('evac-gated', 'portal-db.sandbox.drctl.internal.', 'gated.example.', undefined, true);
  evacuationFile('abort-test', { waves: [{ id: 'only', runbooks: ['evac-gated'] }] });
  const before = await recordValue(stack, 'portal-db.sandbox.drctl.internal.');
  const started = await drctl(
    ['evacuate', 'abort-test', '--reason', 'abort e2e', '--yes', '--output', 'json'],
    env,
  );
  expect(started.code).toBe(0);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
  const paused = await waitFor(workflowId, (p) => p.services[0]?.state === 'paused');
  expect(paused.status).toBe('paused');

  // dave may not abort; bob may: the evacuation forwards bob's signed abort to the child failover.
  const refused = await drctl(['abort', workflowId, '--reason', 'not mine'], asOperator(env, 'dave'));
  expect(refused.code).toBe(4);
  // carol may abort the evacuation but not evac-gated, whose failover would refuse her abort: refused up front
  // (before: accepted, the evacuation ended "aborted" and the failover went on, paused).
  const notForwardable = await drctl(
    ['abort', workflowId, '--reason', 'not for its runbooks'],
    asOperator(env, 'carol'),
  );
  expect(notForwardable.code).toBe(4);
  expect(notForwardable.stderr).toContain('carol may not abort evac-gated under the access policy');
  expect((await waitFor(workflowId, (p) => p.status === 'paused')).services[0]?.state).toBe('paused');
  const aborted = await drctl(['abort', workflowId, '--reason', 'wrong region'], asOperator(env, 'bob'));
  expect(aborted.stderr).toBe('');
  expect(aborted.code).toBe(0);
  expect(aborted.stdout).toContain(
    '  evac-gated (paused): its failover is aborted, its completed steps undone as its runbook allows\n',
  );

  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  expect(followed.code).toBe(1);
  const result = JSON.parse(followed.stdout) as EvacuationResult;
  expect(result.status).toBe('aborted');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual(['evac-gated:aborted']);
  const child = JSON.parse(
    (await drctl(['status', result.services[0]!.workflowId!, '--output', 'json'], env)).stdout,
  ) as {
    status: string;
    operatorActions: Array<{ action: string; operator: string; signed?: { statement: { runId: string } } }>;
  };
  expect(child.status).toBe('aborted');
  const abort = child.operatorActions.find((a) => a.action === 'abort');
  expect(abort).toMatchObject({ operator: 'bob', signed: { statement: { runId: workflowId } } });
  expect(await recordValue(stack, 'portal-db.sandbox.drctl.internal.')).toBe(before);
});
