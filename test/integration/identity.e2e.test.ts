import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { generateKeyPair, signStatement } from '../../auth/io/native-ed25519';
import type { OperatorStatement } from '../../auth/statement';
import { referenceTo } from '../../cli/failover-runs';
import ehrDb from '../../runbooks/examples/ehr-db';
import type { Step } from '../../runbooks/schema';
import { operatorPaths } from '../../sandbox/operator-seed';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverProgress, FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue, sql } from './estate-readers';
import { keyFileOf, signerOf } from './operators';
import { sandboxDataConverter } from './sandbox-data-converter';

/**
 * Who may do what, on the real stack through the real CLI and worker: every operator action is signed, the
 * workflow's validators refuse a bad one before anything enters history (checked in the event history), the
 * two-person and N-of-M rules compare verified key owners, runbooks come from the worker's reviewed catalog,
 * drills run only named injections, break-glass is loud, and verify-run re-checks a run offline.
 */
const RECORD = 'ehr-db.sandbox.drctl.internal.';
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let connection: Connection;
let client: Client;
const scratch = mkdtempSync(join(tmpdir(), 'drctl-identity-'));

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `identity-${randomUUID()}`);
  worker = await startWorkerProcess(env);
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection, namespace: stack.temporal.namespace, ...sandboxDataConverter(stack) });
});

afterAll(async () => {
  await stopProcess(worker);
  await connection?.close();
  await resetStack();
});

/** ehr-db with an approval gate after pre-flight, reviewed into the worker's catalog. */
function gated(id: string, gate: Partial<Extract<Step, { kind: 'approval' }>>): string {
  const steps: unknown[] = [...ehrDb.steps];
  steps.splice(1, 0, { id: 'production-approval', kind: 'approval', ...gate });
  const file = join(catalogDir(env), `${id}.json`);
  writeFileSync(file, JSON.stringify({ ...ehrDb, id, steps }));
  return file;
}

async function startAs(file: string, operator: 'alice' | 'bob'): Promise<string> {
  const started = await drctl(
    ['failover', file, '--reason', 'identity e2e', '--yes', '--output', 'json'],
    asOperator(env, operator),
  );
  expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
  return (JSON.parse(started.stdout) as { workflowId: string }).workflowId;
}

async function progress(workflowId: string): Promise<FailoverProgress> {
  return client.workflow.getHandle(workflowId).query<FailoverProgress>('progress');
}

async function waitForGate(workflowId: string): Promise<FailoverProgress> {
  for (;;) {
    const now = await progress(workflowId);
    if (now.awaiting.some((a) => a.stepId === 'production-approval')) return now;
    expect(now.status).toMatch(/running|paused/);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The run's event history as Temporal stores it: a refused update must leave no trace in it. */
async function historyEvents(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map((event) => temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? '?');
}

/** Sends an approve update straight to Temporal (as any client with namespace access could). */
async function rawApprove(handle: WorkflowHandle, signed: unknown): Promise<string> {
  const error = await handle
    .executeUpdate('approve', { args: [signed] })
    .then(() => undefined)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return (error as WorkflowUpdateFailedError).cause?.message ?? '';
}

function statementFor(
  progressNow: FailoverProgress,
  overrides: Partial<OperatorStatement>,
): OperatorStatement {
  return {
    action: 'approve',
    operator: 'bob',
    runId: progressNow.workflowId,
    stepId: 'production-approval',
    runbookId: progressNow.authorization?.runbookId ?? '?',
    runbookHash: progressNow.authorization?.runbookHash ?? '?',
    reason: 'INC-4411',
    at: new Date().toISOString(),
    nonce: randomUUID().replace(/-/g, ''),
    detail: { run: progressNow.runId },
    ...overrides,
  };
}

const privateKeyOf = (name: 'alice' | 'bob' | 'dave') =>
  (JSON.parse(readFileSync(keyFileOf(name), 'utf8')) as { privateKey: string }).privateKey;

let finishedRun: string;

test('forged, unknown, wrong, role-less, stale and self approvals are refused before history; the run waits; a second operator approves', async () => {
  const workflowId = await startAs(gated('ehr-db-identity-two-person', { twoPerson: true }), 'alice');
  const waiting = await waitForGate(workflowId);
  expect(waiting.initiator).toBe('alice');
  const handle = client.workflow.getHandle(workflowId);
  const before = await historyEvents(workflowId);
  const mallory = generateKeyPair();

  const refusals = {
    unsigned: await rawApprove(handle, { stepId: 'production-approval', operator: 'bob', reason: 'x' }),
    forgedName: await rawApprove(handle, {
      signed: signStatement(statementFor(waiting, { operator: 'bob' }), privateKeyOf('alice')),
    }),
    unknownKey: await rawApprove(handle, {
      signed: signStatement(statementFor(waiting, { operator: 'mallory' }), mallory.privateKey),
    }),
    wrongKey: await rawApprove(handle, {
      signed: {
        ...signStatement(statementFor(waiting, { operator: 'bob' }), mallory.privateKey),
        publicKey: signerOf('bob').publicKey,
      },
    }),
    withoutRole: await rawApprove(handle, {
      signed: signStatement(statementFor(waiting, { operator: 'dave' }), privateKeyOf('dave')),
    }),
    stale: await rawApprove(handle, {
      signed: signStatement(
        statementFor(waiting, { at: new Date(Date.now() - 6 * 60_000).toISOString() }),
        privateKeyOf('bob'),
      ),
    }),
  };
  expect(refusals.unsigned).toMatch(/unsigned: every operator action must be signed/);
  expect(refusals.forgedName).toMatch(/forged name: the statement says "bob" but is signed by alice's key/);
  expect(refusals.unknownKey).toMatch(/unknown key: ed25519:[0-9a-f]{16}… is not in the access policy/);
  expect(refusals.wrongKey).toMatch(/bad signature/);
  expect(refusals.withoutRole).toMatch(
    /not permitted: dave may not approve runbook ehr-db-identity-two-person/,
  );
  expect(refusals.stale).toMatch(/stale statement: signed 3\d\d s ago/);

  const self = await drctl(['approve', workflowId, '--reason', 'mine'], asOperator(env, 'alice'));
  expect(self.code).toBe(4);
  expect(self.stderr).toMatch(
    /two-person approval: alice started this run and cannot approve "production-approval"/,
  );

  expect(await historyEvents(workflowId)).toEqual(before);
  expect((await progress(workflowId)).status).toBe('paused');
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.2');

  const approved = await drctl(
    ['approve', workflowId, '--reason', 'INC-4411 confirmed'],
    asOperator(env, 'bob'),
  );
  expect({ code: approved.code, stdout: approved.stdout }).toEqual({
    code: 0,
    stdout: `${workflowId}: approve production-approval accepted from bob\n`,
  });
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  expect(followed.code).toBe(0);
  const result = JSON.parse(followed.stdout) as FailoverResult;
  expect(result.operatorActions.map((a) => `${a.action}:${a.operator}`)).toEqual([
    'start:alice',
    'approve:bob',
  ]);
  expect(result.operatorActions.every((a) => a.signed?.signature.length === 128)).toBe(true);
  expect(result.authorization?.policySha256).toMatch(/^[0-9a-f]{64}$/);
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.3');
  const accepted = (await historyEvents(workflowId)).filter((type) => /UPDATE_ACCEPTED/.test(type));
  expect(accepted).toHaveLength(1);
  finishedRun = workflowId;
});

test('drctl verify-run passes on the finished run and fails on a timeline where one character of a reason changed', async () => {
  const policy = operatorPaths.policyFile;
  const live = await drctl(['verify-run', finishedRun, '--policy', policy], env);
  expect(live.code).toBe(0);
  expect(live.stdout).toMatch(/ok {3}#1 approve production-approval by bob: signed by bob/);
  expect(live.stdout).toMatch(/verified: every operator action is signed as recorded/);
  // It names the run it verified, and verifies the one --run-id names (runs of a runbook share its lock id).
  const saved = JSON.parse(
    (await drctl(['status', finishedRun, '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect(live.stdout.split('\n')[0]).toBe(`verifying ${finishedRun} run ${saved.runId}`);
  const named = await drctl(
    ['verify-run', finishedRun, '--run-id', saved.runId, '--policy', policy, '--output', 'json'],
    env,
  );
  expect(named.code).toBe(0);
  expect(JSON.parse(named.stdout)).toMatchObject({ verified: `${finishedRun} run ${saved.runId}`, ok: true });
  const file = join(scratch, 'result.json');
  writeFileSync(file, JSON.stringify(saved));
  expect((await drctl(['verify-run', '--file', file, '--policy', policy], env)).code).toBe(0);
  const approval = saved.operatorActions[1]!;
  approval.reason = approval.reason.replace('INC-4411', 'INC-4412');
  writeFileSync(file, JSON.stringify(saved));
  const tampered = await drctl(['verify-run', '--file', file, '--policy', policy], env);
  expect(tampered.code).toBe(1);
  expect(tampered.stdout).toMatch(
    /FAIL #1 approve production-approval by bob: recorded reason "INC-4412 confirmed" differs from the signed reason "INC-4411 confirmed"/,
  );
  expect(tampered.stdout).toMatch(/NOT verified/);

  // A recorded name with control characters is shown escaped (before: raw, so ESC[2K CR erased the FAIL line and
  // printed a fake "ok" one in its place).
  approval.operator = 'bob\u001b[2K\r  ok   #1 approve production-approval by bob';
  writeFileSync(file, JSON.stringify(saved));
  const escaped = await drctl(['verify-run', '--file', file, '--policy', policy], env);
  expect(escaped.code).toBe(1);
  expect(escaped.stdout).not.toContain('\u001b');
  expect(escaped.stdout).toContain('by bob\\x1b[2K\\r  ok');
  // A record stripped of its policy is not verified against whatever policy is given (before: "is the one the run
  // recorded", exit 0).
  const unauthorized = JSON.parse(
    (await drctl(['status', finishedRun, '--output', 'json'], env)).stdout,
  ) as Partial<FailoverResult>;
  delete unauthorized.authorization;
  writeFileSync(file, JSON.stringify(unauthorized));
  const stripped = await drctl(['verify-run', '--file', file, '--policy', policy], env);
  expect(stripped.code).toBe(1);
  expect(stripped.stdout).toMatch(/the run records no access policy to compare it with/);
  expect(stripped.stdout).toMatch(/names no access policy/);
});

test('2 of group dba, not the initiator: one approval leaves the run waiting; a replay, a repeat and the initiator are refused', async () => {
  stack = await resetStack();
  const workflowId = await startAs(
    gated('ehr-db-identity-dba', { approvers: { count: 2, group: 'dba', forbidInitiator: true } }),
    'bob',
  );
  await waitForGate(workflowId);
  const handle = client.workflow.getHandle(workflowId);
  const carolFirst = await drctl(
    ['approve', workflowId, '--reason', 'DBA: replica healthy'],
    asOperator(env, 'carol'),
  );
  expect(carolFirst.stdout).toMatch(/accepted from carol; 1 more different operator needed/);
  const one = await progress(workflowId);
  expect(one.awaiting[0]?.approvers).toEqual({
    rule: '2 approvers from dba, not the initiator',
    approvedBy: ['carol'],
    needed: 1,
  });
  const before = await historyEvents(workflowId);

  const carolsUpdate = one.operatorActions.at(-1)?.signed;
  expect(await rawApprove(handle, { signed: carolsUpdate })).toMatch(/replayed statement: nonce/);
  const again = await drctl(['approve', workflowId, '--reason', 'me again'], asOperator(env, 'carol'));
  expect(again.stderr).toMatch(
    /carol already approved "production-approval"; 1 more approval from group dba needed/,
  );
  const initiator = await drctl(['approve', workflowId, '--reason', 'mine'], asOperator(env, 'bob'));
  expect(initiator.stderr).toMatch(/two-person approval: bob started this run/);
  const outsider = await drctl(['approve', workflowId, '--reason', 'on call'], asOperator(env, 'alice'));
  expect(outsider.stderr).toMatch(/alice is not in group dba/);

  expect(await historyEvents(workflowId)).toEqual(before);
  expect((await progress(workflowId)).status).toBe('paused');
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.2');
  const aborted = await drctl(
    ['abort', workflowId, '--reason', 'second DBA unreachable; using break-glass drill next'],
    env,
  );
  expect(aborted.code).toBe(0);
  const { status } = JSON.parse(
    (await drctl(['status', workflowId, '--follow', '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect(status).toBe('aborted');
});

test('break-glass approves any gate only when used on purpose, and every use is recorded and shown', async () => {
  stack = await resetStack();
  const workflowId = await startAs(
    gated('ehr-db-identity-glass', { approvers: { count: 2, group: 'dba', forbidInitiator: true } }),
    'alice',
  );
  await waitForGate(workflowId);
  const glass = { ...env, DRCTL_KEY_FILE: operatorPaths.keyFile('break-glass') };
  const unflagged = await drctl(['approve', workflowId, '--reason', 'no DBA reachable'], glass);
  expect(unflagged.code).toBe(4);
  expect(unflagged.stderr).toMatch(
    /is a break-glass key: use it only in an emergency, on purpose, with --break-glass/,
  );
  const used = await drctl(
    ['approve', workflowId, '--break-glass', '--reason', 'INC-4411: no DBA reachable'],
    glass,
  );
  expect(used.code).toBe(0);
  expect(used.stderr).toMatch(/BREAK-GLASS/);
  const followed = await drctl(['status', workflowId, '--follow'], env);
  expect(followed.stdout).toMatch(/BREAK-GLASS used 1 time\(s\) in this run/);
  const result = JSON.parse(
    (await drctl(['status', workflowId, '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect(result.status).toBe('succeeded');
  expect(result.authorization?.breakGlassUses).toEqual([
    expect.objectContaining({
      action: 'approve',
      keyId: 'break-glass:sandbox-emergency',
      stepId: 'production-approval',
    }),
  ]);
  expect(result.timeline.find((e) => e.stepId === 'production-approval')?.summary).toMatch(
    /^approved by BREAK-GLASS key break-glass:sandbox-emergency \(held by sandbox safe/,
  );
  expect((await drctl(['status', workflowId], env)).stdout).toMatch(
    /‼ BREAK-GLASS approve production-approval/,
  );
  expect((await drctl(['verify-run', workflowId, '--policy', operatorPaths.policyFile], env)).stdout).toMatch(
    /approve production-approval by break-glass:sandbox-emergency: .*BREAK-GLASS/,
  );
});

test('a failover started with the break-glass key is listed under that key as verified, not under its key file’s name', async () => {
  // Before: `drctl runs` showed the name the client wrote when it started the run (the key file's, "break-glass"),
  // which nothing checks; the run now writes the signer it verified.
  stack = await resetStack();
  const id = 'ehr-db-identity-glass-start';
  const file = join(catalogDir(env), `${id}.json`);
  writeFileSync(file, JSON.stringify({ ...ehrDb, id }));
  const glass = { ...env, DRCTL_KEY_FILE: operatorPaths.keyFile('break-glass') };
  const started = await drctl(
    [
      'failover',
      file,
      '--break-glass',
      '--reason',
      'INC-4411: nobody on call reachable',
      '--yes',
      '--follow',
    ],
    glass,
  );
  expect(started.code).toBe(0);
  expect(started.stderr).toMatch(/BREAK-GLASS/);

  const initiators = async () =>
    (
      JSON.parse((await drctl(['runs', '--runbook', id, '--output', 'json'], env)).stdout) as Array<{
        initiator: string | null;
      }>
    ).map((run) => run.initiator);
  let shown = await initiators();
  for (let tries = 0; tries < 50 && shown[0] !== 'break-glass:sandbox-emergency'; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    shown = await initiators();
  }
  expect(shown[0]).toBe('break-glass:sandbox-emergency'); // the newest run: this one
});

test('a client copy of a runbook that differs from the reviewed catalog is refused, and nothing changes', async () => {
  stack = await resetStack();
  const mine = join(scratch, 'ehr-db.json');
  writeFileSync(mine, JSON.stringify({ ...ehrDb, title: `${ehrDb.title} (my edit)` }));
  const refused = await drctl(['failover', mine, '--reason', 'INC-1', '--yes'], env);
  expect(refused.code).toBe(4);
  expect(refused.stderr).toMatch(
    new RegExp(
      `runbook ehr-db differs from the worker's reviewed catalog: you planned against sha256 [0-9a-f]{64}, the catalog has ${referenceTo(ehrDb).sha256}`,
    ),
  );
  // The refused start is the lock's latest run: status says whose and why, not "Workflow execution failed".
  const shown = await drctl(['status', 'failover-ehr-db'], env);
  expect(shown.code).toBe(1);
  expect(shown.stdout).toMatch(
    /^failover-ehr-db: refused \(run \S+, started \S+ by alice\): .*differs from the worker's reviewed catalog/,
  );
  expect(shown.stdout).toContain('refused before it began, it changed nothing; earlier runs: drctl runs');
  const planned = await drctl(['plan', mine], env);
  expect(planned.code).toBe(4);
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.2');
  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(true);
});

test("a drill cannot be made to run a command: only the worker's named injections, as signed", async () => {
  const marker = join(scratch, 'pwned');
  const viaCli = await drctl(
    ['drill', 'run', 'ehr-db', '--reason', 'x', '--action', 'stop-primary', '--inject', `touch ${marker}`],
    env,
  );
  expect(viaCli.code).toBe(2);
  expect(viaCli.stderr).toMatch(/--inject names one of the worker's configured injections/);
  expect(
    (await drctl(['drill', 'run', 'ehr-db', '--reason', 'x', '--inject-command', `touch ${marker}`], env))
      .code,
  ).toBe(2);

  const reference = referenceTo(ehrDb);
  const drillId = `drill-ehr-db-identity-${Date.now()}`;
  const options = {
    action: 'stop-primary',
    inject: 'no-such-injection',
    command: ['touch', marker],
    canaryIntervalMs: 100,
    warmupMs: 200,
  };
  const start = signerOf('alice').sign({
    action: 'drill',
    runId: drillId,
    runbookId: reference.id,
    runbookHash: reference.sha256,
    reason: 'arbitrary command attempt',
    detail: { action: 'stop-primary', inject: 'no-such-injection', database: '' },
  });
  const failure = await client.workflow
    .execute('drillWorkflow', {
      taskQueue: env.DRCTL_TASK_QUEUE as string,
      workflowId: drillId,
      args: [{ runbook: reference, start, options }],
    })
    .then(
      () => 'completed',
      (error: Error) =>
        `${error.message} ${String((error.cause as Error)?.message)} ${String(((error.cause as Error)?.cause as Error)?.message)}`,
    );
  expect(failure).toMatch(
    /no failure injection named "no-such-injection" in this worker's configuration \(drill.injections\): known stop-primary-vm/,
  );
  expect(existsSync(marker)).toBe(false);
  const [primary] = await sql<{ recovering: boolean }>(
    stack.postgres.primaryUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(primary?.recovering).toBe(false);

  const swappedId = `drill-ehr-db-identity-swap-${Date.now()}`;
  const signedFence = signerOf('alice').sign({
    action: 'drill',
    runId: swappedId,
    runbookId: reference.id,
    runbookHash: reference.sha256,
    reason: 'fence drill',
    detail: { action: 'fence-primary', inject: '', database: '' },
  });
  const swapped = await client.workflow
    .execute('drillWorkflow', {
      taskQueue: env.DRCTL_TASK_QUEUE as string,
      workflowId: swappedId,
      args: [{ runbook: reference, start: signedFence, options: { ...options, inject: 'stop-primary-vm' } }],
    })
    .then(
      () => 'completed',
      (error: Error) => String((error.cause as Error)?.message),
    );
  expect(swapped).toMatch(/the drill's action, inject differ from what was signed/);
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.2');
});

test('a missing or corrupt key file is exit 3 naming the file; nothing is started', async () => {
  const countRuns = async () =>
    (await client.workflow.count(`DrctlRunbook = 'ehr-db' AND TaskQueue = '${env.DRCTL_TASK_QUEUE}'`)).count;
  const before = await countRuns();
  const missing = join(scratch, 'nobody.json');
  const noKey = await drctl(['failover', 'ehr-db', '--reason', 'INC-1', '--yes'], {
    ...env,
    DRCTL_KEY_FILE: missing,
  });
  expect(noKey.code).toBe(3);
  expect(noKey.stderr).toContain(
    `no operator key at ${missing}: create one with \`drctl keys init --name <you>\``,
  );
  const corrupt = join(scratch, 'corrupt.json');
  writeFileSync(corrupt, '{"format": "drctl-operator-key/1", "name": "bob", "privateKey": 12}', {
    mode: 0o600,
  });
  const bad = await drctl(['approve', finishedRun, '--reason', 'x'], { ...env, DRCTL_KEY_FILE: corrupt });
  expect(bad.code).toBe(3);
  expect(bad.stderr).toContain(`key file ${corrupt} is corrupt: privateKey must be 64 hex digits`);
  expect(await countRuns()).toBe(before);
});

test.each([
  [
    'an unknown permission',
    (p: Record<string, unknown>) => ({
      ...p,
      permissions: [{ runbooks: ['*'], groups: ['oncall'], allow: ['failover', 'deploy'] }],
    }),
    /permissions\[0\]\.allow\[1\]: unknown permission "deploy"; allowed: plan, failover/,
  ],
  [
    'a malformed public key',
    (p: Record<string, unknown>) => ({
      ...p,
      operators: { ...(p.operators as object), bob: { keys: ['ed25519:not-a-key'] } },
    }),
    /operators\.bob\.keys\[0\]: malformed public key "ed25519:not-a-key"/,
  ],
])(
  'a worker with a policy holding %s exits 3 naming the file and field, and polls nothing',
  async (_what, edit, says) => {
    const policy = JSON.parse(readFileSync(operatorPaths.policyFile, 'utf8')) as Record<string, unknown>;
    const file = join(scratch, `policy-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(edit(policy)));
    const run = await drctl(['worker'], {
      ...env,
      DRCTL_POLICY_FILE: file,
      DRCTL_TASK_QUEUE: `never-${randomUUID()}`,
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`access policy ${file} is invalid`);
    expect(run.stderr).toMatch(says);
    expect(run.stderr).not.toMatch(/polling/);
  },
);
