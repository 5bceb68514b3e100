import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { evacuationReference, startEvacuation } from '../../cli/evacuation-runs';
import type { RunSummary } from '../../cli/runs';
import { releaseMemoKey } from '../../common/held-release';
import { OUTCOME_KEY } from '../../common/search-attributes';
import { findEvacuation } from '../../evacuations/catalog';
import type { EvacuationProgress, EvacuationResult } from '../../evacuations/evacuation-types';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { progressQuery } from '../../workflows/failover';
import { releaseSignal } from '../../workflows/operator-decision';
import { FIRST_HOLDER_CHECK_MS } from '../../workflows/parent-release';
import type { FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue } from './estate-readers';
import { dnsRunbook as writeDnsRunbook, evacuationStatus, signalHandled } from './evacuation-fixtures';
import { pointRecordAt } from './estate-writers';
import { signerOf } from './operators';
import { strictAwsControl } from '../../sandbox/strict-aws-client';
import { sandboxDataConverter } from './sandbox-data-converter';

/**
 * An evacuation takes every runbook's lock before its first effect, in the workflow, whatever Temporal's
 * visibility says: two evacuations of one plan started back to back (past the CLI's visibility check) are one
 * run and one refusal that started nothing; an evacuation aborted while its later waves' failovers hold their
 * locks lets them go, having changed nothing, and the locks are free again.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let evacuationsDir: string;
let connection: Connection;
let temporal: Client;

const ZONE = 'sandbox.drctl.internal.';

/** The address every test record holds before a runbook moves it. */
const SEEDED = '127.0.9.9';

/**
 * A one-step runbook pointing its own A record `<id>.<zone>` at `value`, reviewed into the worker's catalog; the
 * record is created first, pointing at `SEEDED` (a runbook's pre-flight needs the records it moves).
 */
async function dnsRunbook(id: string, value: string): Promise<void> {
  await pointRecordAt(stack, `${id}.${ZONE}`, SEEDED);
  writeDnsRunbook(env, id, { name: `${id}.${ZONE}`, type: 'A', value });
}

function evacuationFile(id: string, waves: unknown[]): void {
  writeFileSync(join(evacuationsDir, `${id}.json`), JSON.stringify({ id, title: id, waves }));
}

/**
 * Runbooks `<prefix>-first` and `<prefix>-later`, each moving its own record to `<subnet>.1` and `<subnet>.2`, and
 * the plan `<prefix>-plan`: the first, then the later once a wave approval came.
 */
async function gatedPair(prefix: string, subnet: string): Promise<void> {
  await dnsRunbook(`${prefix}-first`, `${subnet}.1`);
  await dnsRunbook(`${prefix}-later`, `${subnet}.2`);
  evacuationFile(`${prefix}-plan`, [
    { id: 'first', runbooks: [`${prefix}-first`] },
    { id: 'later', runbooks: [`${prefix}-later`], approval: { prompt: 'go on?' } },
  ]);
}

/** The status and outcome `drctl runs` lists for the latest run of a runbook, once visibility has its outcome. */
async function latestListed(runbookId: string): Promise<{ status?: string; outcome?: string | null }> {
  for (;;) {
    const listed = JSON.parse(
      (await drctl(['runs', '--runbook', runbookId, '--output', 'json'], env)).stdout,
    ) as RunSummary[];
    const [latest] = listed;
    if (latest?.outcome) return { status: latest.status, outcome: latest.outcome };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Every run Temporal recorded under a workflow id since `since` (earlier test runs used the same ids), once
 * visibility lists the one `runId` (it lags).
 */
async function runsUnder(workflowId: string, since: string, runId: string): Promise<string[]> {
  for (;;) {
    const runs: string[] = [];
    const query = `WorkflowId = '${workflowId}' AND StartTime >= '${since}'`;
    for await (const execution of temporal.workflow.list({ query })) runs.push(execution.runId);
    if (runs.includes(runId)) return runs;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `evacuation-locks-${randomUUID()}`);
  evacuationsDir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  env.DRCTL_EVACUATIONS_DIR = evacuationsDir;
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

test('two evacuations of one plan started back to back: one runs every runbook once, the other is refused having started nothing', async () => {
  await dnsRunbook('locks-b', '127.0.1.2');
  await dnsRunbook('locks-a', '127.0.1.1');
  await dnsRunbook('locks-c', '127.0.1.3');
  // locks-a sorts first: both evacuations race for its lock (waves[0].runbooks[1]) before any other.
  evacuationFile('locks-plan', [
    { id: 'first', runbooks: ['locks-b', 'locks-a'] },
    { id: 'second', runbooks: ['locks-c'] },
  ]);
  const loaded = findEvacuation('locks-plan', [catalogDir(env)], [evacuationsDir]);
  const since = new Date().toISOString();
  if (loaded === undefined) throw new Error('the test plan did not load');

  // Straight through the client, as two operators' CLIs within Temporal's visibility lag would.
  const starts = await Promise.allSettled(
    ['INC-1 first', 'INC-1 second'].map((reason) =>
      startEvacuation(temporal, env.DRCTL_TASK_QUEUE as string, loaded, {
        reason,
        signer: signerOf('alice'),
        now: new Date(),
      }),
    ),
  );
  const started = starts.filter((start) => start.status === 'fulfilled');
  const refused = starts.filter((start) => start.status === 'rejected');
  expect(started).toHaveLength(1);
  expect(refused).toHaveLength(1);
  // The CLI reports the workflow's refusal as it reports the client-side check: exit 4, the field, the holder.
  const refusal = (refused[0] as PromiseRejectedResult).reason as { exitCode: number; message: string };
  expect(refusal.exitCode).toBe(4);
  const refusedAs = refusal.message.match(
    /^(evacuation-locks-plan-\S+) \(evacuation locks-plan\) refused, nothing started: .*waves\[0\]\.runbooks\[1\]: locks-a is held by failover-locks-a/,
  );
  expect(refusedAs).not.toBeNull();
  const loserId = refusedAs?.[1] as string;
  const winner = (started[0] as PromiseFulfilledResult<string>).value;

  const result = JSON.parse(
    (await drctl(['status', winner, '--follow', '--output', 'json'], env)).stdout,
  ) as EvacuationResult;
  expect(result.status).toBe('succeeded');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'locks-b:succeeded',
    'locks-a:succeeded',
    'locks-c:succeeded',
  ]);
  for (const [id, value] of [
    ['locks-a', '127.0.1.1'],
    ['locks-b', '127.0.1.2'],
    ['locks-c', '127.0.1.3'],
  ] as const)
    expect(await recordValue(stack, `${id}.${ZONE}`)).toBe(value);
  // Each runbook ran exactly once: one run under its lock, the winner's child.
  for (const service of result.services)
    expect(await runsUnder(`failover-${service.runbookId}`, since, service.runId as string)).toEqual([
      service.runId,
    ]);

  // The refused evacuation started no child of its own; each service names the field and the lock's holder.
  const loser = (await evacuationStatus(env, loserId)) as EvacuationProgress & {
    outcome?: string;
    message?: string;
  };
  expect(loser.status).toBe('failed');
  // Refused, as `drctl runs` lists it and the start said (before: status said only "failed").
  expect(loser.outcome).toBe('refused');
  expect(loser.message).toMatch(/refused, nothing started: .*locks-a is held by failover-locks-a/);
  const shown = await drctl(['status', loserId], env);
  expect(shown.code).toBe(1);
  expect(shown.stdout).toMatch(
    new RegExp(
      `^${loserId}: evacuation locks-plan refused in \\S+: 2 skipped, 1 refused \\(by alice, reason: INC-1 (first|second)\\)\\n  ${loserId} \\(evacuation locks-plan\\) refused, nothing started: `,
    ),
  );
  // Its report says refused and why, as status does (before: "Outcome: **failed**", no reason; JSON unmarked).
  const report = await drctl(['report', loserId, '--format', 'md'], env);
  expect(report.code).toBe(0);
  expect(report.stdout).toMatch(/- Outcome: \*\*refused\*\* in /);
  expect(report.stdout).toMatch(
    /- Refused: .*refused, nothing started: .*locks-a is held by failover-locks-a/,
  );
  const reportJson = JSON.parse((await drctl(['report', loserId, '--format', 'json'], env)).stdout) as {
    outcome?: string;
  };
  expect(reportJson.outcome).toBe('refused');
  expect(loser.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'locks-b:skipped',
    'locks-a:refused',
    'locks-c:skipped',
  ]);
  expect(loser.services[1]?.detail).toMatch(
    /^waves\[0\]\.runbooks\[1\]: locks-a is held by failover-locks-a/,
  );
  for (const service of [loser.services[0], loser.services[2]])
    expect(service?.detail).toContain(
      "not started: the evacuation could not take every runbook's lock: waves[0].runbooks[1]: locks-a is held by failover-locks-a",
    );
  const history = await temporal.workflow.getHandle(loserId).fetchHistory();
  expect(history.events?.filter((event) => event.childWorkflowExecutionStartedEventAttributes)).toEqual([]);
  const described = await temporal.workflow.getHandle(loserId).describe();
  expect(described.typedSearchAttributes.get(OUTCOME_KEY)).toBe('refused');
});

test('an evacuation aborted while its later waves hold their locks lets them go, having changed nothing; the locks are free', async () => {
  await gatedPair('held', '127.0.2');
  const workflowId = await evacuateUntilGate('held-plan', 'INC-2 hold then abort', 'later');
  expect(await recordValue(stack, `held-first.${ZONE}`)).toBe('127.0.2.1');

  // While the evacuation waits for the approval, held-later's lock is the evacuation's: a failover is refused.
  const meanwhile = await drctl(
    ['failover', 'held-later', '--reason', 'not while held', '--yes', '--output', 'json'],
    env,
  );
  expect(meanwhile.code).toBe(4);
  expect(JSON.parse(meanwhile.stdout).error).toMatchObject({ code: 'AlreadyRunning' });

  const aborted = await drctl(['abort', workflowId, '--reason', 'called off'], asOperator(env, 'bob'));
  expect(aborted.stderr).toBe('');
  expect(aborted.code).toBe(0);
  // What the abort does to each service, said at once (before: only "abort with rollback accepted", although the
  // first wave's failover is not rolled back).
  expect(aborted.stdout).toContain(
    '  held-first (succeeded): stays failed over: an abort does not undo a completed failover; fail it back when ready (drctl failback held-first --help)\n',
  );
  expect(aborted.stdout).toMatch(
    / {2}held-later \((waiting|blocked)\): not started, and now it will not be\n/,
  );
  const result = JSON.parse(
    (await drctl(['status', workflowId, '--follow', '--output', 'json'], env)).stdout,
  ) as EvacuationResult;
  expect(result.status).toBe('aborted');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'held-first:succeeded',
    'held-later:skipped',
  ]);

  // The held failover ended, having changed nothing, with its lock free again.
  const held = JSON.parse(
    (await drctl(['status', 'failover-held-later', '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect(held.status).toBe('failed');
  expect(held.timeline.map((entry) => `${entry.stepId}:${entry.error?.type}`)).toEqual(['hold:NotReleased']);
  expect(held.timeline[0]?.error?.message).toContain(`${workflowId} called this run off`);
  expect(held.reason).toContain(workflowId);
  expect(await recordValue(stack, `held-later.${ZONE}`)).toBe(SEEDED);
  // `drctl runs` and `status` say it never began, not that it failed (Temporal's status stays FAILED).
  expect(await latestListed('held-later')).toEqual({ status: 'FAILED', outcome: 'not-released' });
  const shown = await drctl(['status', 'failover-held-later'], env);
  expect(shown.stdout).toMatch(/^failover-held-later: not-released in /);
  const again = await drctl(
    ['failover', 'held-later', '--reason', 'after the abort', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(again.code).toBe(0);
  expect(await recordValue(stack, `held-later.${ZONE}`)).toBe('127.0.2.2');
});

/**
 * Sends the held failover of `runbookId` the release its evacuation would send, as anyone who may signal could;
 * once the signal is handled, the failover is still held (no step ran) and its record unchanged.
 */
async function expectForgedReleaseIgnored(runbookId: string, workflowId: string): Promise<void> {
  const failover = temporal.workflow.getHandle(`failover-${runbookId}`);
  await failover.signal(releaseSignal, {
    operator: `evacuation ${workflowId}`,
    reason: `wave later started ${runbookId}`,
    proceed: true,
  });
  await signalHandled(temporal, `failover-${runbookId}`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const held = await failover.query(progressQuery);
  expect({ status: held.status, steps: held.timeline.length }).toEqual({ status: 'running', steps: 0 });
  expect(await recordValue(stack, `${runbookId}.${ZONE}`)).toBe(SEEDED);
}

/** `drctl evacuate <plan>`; resolves with the evacuation's workflow id. */
async function evacuate(plan: string, reason: string): Promise<string> {
  const started = await drctl(['evacuate', plan, '--reason', reason, '--yes', '--output', 'json'], env);
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  return (JSON.parse(started.stdout) as { workflowId: string }).workflowId;
}

/** Starts an evacuation of `plan` and waits until its wave `gate` waits for an approval; returns its id. */
async function evacuateUntilGate(plan: string, reason: string, gate: string): Promise<string> {
  const workflowId = await evacuate(plan, reason);
  for (;;) {
    const progress = await evacuationStatus(env, workflowId);
    if (progress.awaiting.some((awaiting) => awaiting.stepId === gate)) return workflowId;
    expect(progress.status).toMatch(/running|paused/);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** bob approves the plan's wave `later`; resolves with the evacuation's result once it has ended. */
async function approveLaterAndFollow(workflowId: string): Promise<EvacuationResult> {
  const approved = await drctl(
    ['approve', workflowId, '--step', 'later', '--reason', 'first wave is done'],
    asOperator(env, 'bob'),
  );
  expect(approved.stderr).toBe('');
  expect(approved.code).toBe(0);
  return JSON.parse(
    (await drctl(['status', workflowId, '--follow', '--output', 'json'], env)).stdout,
  ) as EvacuationResult;
}

test('a release signal the evacuation did not send leaves its held failover held: only the wave approval starts it', async () => {
  await gatedPair('forged', '127.0.3');
  const workflowId = await evacuateUntilGate('forged-plan', 'INC-4 forged release', 'later');

  // Anyone who may signal workflows in the namespace sends the release the evacuation sends when a wave opens.
  await expectForgedReleaseIgnored('forged-later', workflowId);
  expect((await evacuationStatus(env, workflowId)).awaiting.map((gate) => gate.stepId)).toEqual(['later']);

  const result = await approveLaterAndFollow(workflowId);
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'forged-first:succeeded',
    'forged-later:succeeded',
  ]);
  expect(await recordValue(stack, `forged-later.${ZONE}`)).toBe('127.0.3.2');
});

test('a release written into the memo of an evacuation’s start counts for nothing: it names no run the evacuation started', async () => {
  await gatedPair('seeded', '127.0.5');
  const loaded = findEvacuation('seeded-plan', [catalogDir(env)], [evacuationsDir]);
  if (loaded === undefined) throw new Error('the test plan did not load');
  // Whoever may start the evacuation (a signed evacuate statement) starts it with a memo holding the record a
  // release leaves, for the second wave's failover, whose run id nobody knows before the evacuation starts it.
  const workflowId = `evacuation-seeded-plan-${randomUUID()}`;
  const reference = evacuationReference(loaded);
  const start = signerOf('alice').sign({
    action: 'evacuate',
    runId: workflowId,
    runbookId: reference.id,
    runbookHash: reference.sha256,
    reason: 'INC-6 seeded memo',
  });
  await temporal.workflow.start('evacuationWorkflow', {
    taskQueue: env.DRCTL_TASK_QUEUE as string,
    workflowId,
    args: [{ evacuation: reference, start }],
    memo: { [releaseMemoKey('seeded-later')]: { proceed: true, runId: 'guessed', reason: 'seeded' } },
  });
  for (;;) {
    const progress = await evacuationStatus(env, workflowId);
    if (progress.awaiting.some((gate) => gate.stepId === 'later')) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  // A signal makes the held failover read its evacuation at once: it finds the seeded record, not its own.
  await expectForgedReleaseIgnored('seeded-later', workflowId);
  const aborted = await drctl(['abort', workflowId, '--reason', 'test done'], asOperator(env, 'bob'));
  expect(aborted.code).toBe(0);
  const ended = JSON.parse(
    (await drctl(['status', workflowId, '--follow', '--output', 'json'], env)).stdout,
  ) as EvacuationResult;
  // Aborted at the gate: the gated wave's service was skipped, and the closed run offers no approval any more.
  expect(ended.status).toBe('aborted');
  expect(ended.waves.map((wave) => `${wave.id}:${wave.state}`)).toEqual(['first:settled', 'later:settled']);
  expect(ended.awaiting).toEqual([]);
  expect((await drctl(['status', workflowId], env)).stdout).not.toContain('waits for an approval');
});

test('an evacuation terminated while its later waves hold their locks: each held failover sees it ended, ends having changed nothing, and frees its lock', async () => {
  await gatedPair('orphan', '127.0.4');
  const workflowId = await evacuateUntilGate('orphan-plan', 'INC-5 terminated', 'later');
  await temporal.workflow.getHandle(workflowId).terminate('the evacuation is stuck');

  // The held failover looks at its evacuation within FIRST_HOLDER_CHECK_MS of its hold (before: a day).
  const orphan = temporal.workflow.getHandle('failover-orphan-later');
  const ended = await Promise.race([
    orphan.result().then(
      () => 'succeeded',
      () => 'failed',
    ),
    new Promise((resolve) => setTimeout(() => resolve('still held'), FIRST_HOLDER_CHECK_MS + 30_000)),
  ]);
  expect(ended).toBe('failed');
  const held = JSON.parse(
    (await drctl(['status', 'failover-orphan-later', '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect(held.timeline.map((entry) => `${entry.stepId}:${entry.error?.type}`)).toEqual(['hold:NotReleased']);
  expect(held.timeline[0]?.error?.message).toBe(
    `${workflowId} ended (terminated) without releasing this run; nothing was changed`,
  );
  expect(await recordValue(stack, `orphan-later.${ZONE}`)).toBe(SEEDED);
  const again = await drctl(
    [
      'failover',
      'orphan-later',
      '--reason',
      'after the terminated evacuation',
      '--yes',
      '--follow',
      '--output',
      'json',
    ],
    env,
  );
  expect(again.code).toBe(0);
  expect(await recordValue(stack, `orphan-later.${ZONE}`)).toBe('127.0.4.2');
});

/** A runbook of one durable wait (no targets): a failover of it holds its lock for `duration`, changing nothing. */
function waitRunbook(id: string, duration: string): void {
  const runbook = {
    id,
    title: `${id}: wait`,
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
    targets: {},
    steps: [{ id: 'settle', kind: 'wait', duration }],
  };
  writeFileSync(join(catalogDir(env), `${id}.json`), JSON.stringify(runbook));
}

/** A failover of `id` started by hand (a long wait runbook), holding the runbook's lock; its workflow id. */
async function holdByHand(id: string): Promise<string> {
  const hand = await drctl(['failover', id, '--reason', 'holds its lock', '--yes', '--output', 'json'], env);
  expect(hand.code).toBe(0);
  return (JSON.parse(hand.stdout) as { workflowId: string }).workflowId;
}

/** Aborts the failover `holdByHand` started, once it has ended: its lock is free. */
async function letGoByHand(workflowId: string): Promise<void> {
  expect((await drctl(['abort', workflowId, '--reason', 'done holding'], asOperator(env, 'bob'))).code).toBe(
    0,
  );
  await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
}

/** Starts `plan` straight through the client (the CLI's visibility check would refuse it first): its refusal. */
async function evacuateRefused(
  plan: string,
  reason: string,
): Promise<{ exitCode?: number; message?: string }> {
  const loaded = findEvacuation(plan, [catalogDir(env)], [evacuationsDir]);
  if (loaded === undefined) throw new Error(`the test plan ${plan} did not load`);
  return (await startEvacuation(temporal, env.DRCTL_TASK_QUEUE as string, loaded, {
    reason,
    signer: signerOf('alice'),
    now: new Date(),
  }).catch((error: unknown) => error)) as { exitCode?: number; message?: string };
}

/**
 * From a failover's history: how many times it scheduled its DNS pre-flight check, and where its first activity
 * and the evacuation's first `release` signal come (-1: none).
 */
async function readsAndRelease(
  workflowId: string,
): Promise<{ dnsChecks: number; firstRead: number; release: number }> {
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const at = (found: (event: (typeof events)[number]) => boolean) => events.findIndex(found);
  return {
    dnsChecks: events.filter(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'checkDnsRecords',
    ).length,
    firstRead: at((event) => event.activityTaskScheduledEventAttributes != null),
    release: at((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'release'),
  };
}

test('a first-wave failover makes its pre-flight while the evacuation takes the other locks, and its pre-flight step uses it; a wave released later reads once released', async () => {
  await gatedPair('early', '127.0.8');
  const workflowId = await evacuateUntilGate('early-plan', 'INC-5 reads while held', 'later');
  const result = await approveLaterAndFollow(workflowId);
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual([
    'early-first:succeeded',
    'early-later:succeeded',
  ]);
  expect(await recordValue(stack, `early-first.${ZONE}`)).toBe('127.0.8.1');
  expect(await recordValue(stack, `early-later.${ZONE}`)).toBe('127.0.8.2');

  const preflightOf = async (id: string) => {
    const run = JSON.parse(
      (await drctl(['status', `failover-${id}`, '--output', 'json'], env)).stdout,
    ) as FailoverResult;
    expect(run.timeline.map((e) => `${e.stepId}:${e.status}`)).toEqual([
      'automatic-preflight:succeeded',
      'switch-dns:succeeded',
    ]);
    return run.timeline[0];
  };
  // The first wave's failover read while held, and its pre-flight step passed on those checks: it did not read
  // again once released (one DNS check in its history).
  const first = await preflightOf('early-first');
  expect(first?.facts?.readWhileHeld).toBe(true);
  expect(first?.checks?.every((check) => check.ok)).toBe(true);
  // Their provider time was spent before the step began: counted apart, not as the step's.
  expect(first?.providerMs).toBe(0);
  expect(first?.facts?.heldProviderMs).toBeGreaterThan(0);
  expect((await readsAndRelease('failover-early-first')).dnsChecks).toBe(1);
  // The later wave waited for an approval: it read nothing while held, and its pre-flight read once released.
  const later = await preflightOf('early-later');
  expect(later?.facts?.readWhileHeld).toBeUndefined();
  const laterOrder = await readsAndRelease('failover-early-later');
  expect(laterOrder).toMatchObject({ dnsChecks: 1 });
  expect(laterOrder.firstRead).toBeGreaterThan(laterOrder.release);
});

test('an abort interrupts at once a first-wave pre-flight still waiting for the checks it started while held (Route 53 hanging), having changed nothing', async () => {
  await dnsRunbook('stalled', '127.0.7.1');
  evacuationFile('stalled-plan', [{ id: 'first', runbooks: ['stalled'] }]);
  const control = strictAwsControl(stack.moto.controlUrl);
  // Every Route 53 call hangs for two minutes: the pre-flight's DNS check cannot answer before the abort.
  await control.update({ outage: { route53ControlPlaneDown: true, mode: 'hang', hangMs: 120_000 } });
  try {
    const workflowId = await evacuate('stalled-plan', 'INC-7 stalled pre-flight');
    // Released, its pre-flight step runs on the checks it started while held.
    for (;;) {
      const status = await drctl(['status', 'failover-stalled', '--output', 'json'], env);
      const progress = JSON.parse(status.stdout) as FailoverResult;
      if (progress.currentSteps?.includes('automatic-preflight')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const aborted = await drctl(['abort', workflowId, '--reason', 'called off'], asOperator(env, 'bob'));
    expect(aborted.code).toBe(0);
    const result = JSON.parse(
      (await drctl(['status', workflowId, '--follow', '--output', 'json'], env)).stdout,
    ) as EvacuationResult;
    expect(result.status).toBe('aborted');
    const run = JSON.parse(
      (await drctl(['status', 'failover-stalled', '--output', 'json'], env)).stdout,
    ) as FailoverResult;
    expect(run.timeline.map((e) => `${e.stepId}:${e.status}`)).toEqual(['automatic-preflight:interrupted']);
    expect(run.timeline[0]?.facts?.readWhileHeld).toBe(true);
  } finally {
    await control.update({ outage: { route53ControlPlaneDown: false, mode: 'reset', hangMs: 5_000 } });
  }
  expect(await recordValue(stack, `stalled.${ZONE}`)).toBe(SEEDED);
});

test('a first-wave failover asked to read while held, let go because another lock was refused, ends having changed nothing', async () => {
  await dnsRunbook('dropped-a', '127.0.6.1');
  waitRunbook('dropped-b', '10m');
  evacuationFile('dropped-plan', [{ id: 'first', runbooks: ['dropped-a', 'dropped-b'] }]);
  const hand = await holdByHand('dropped-b');

  // dropped-a sorts first: its lock is taken alone, then dropped-b's is refused.
  const refused = await evacuateRefused('dropped-plan', 'INC-6 dropped');
  expect(refused.exitCode).toBe(4);
  expect(refused.message).toMatch(/dropped-b is held by failover-dropped-b/);

  const held = temporal.workflow.getHandle('failover-dropped-a');
  await held.result().catch(() => undefined);
  const run = JSON.parse(
    (await drctl(['status', 'failover-dropped-a', '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect({ status: run.status, steps: run.timeline.map((e) => `${e.stepId}:${e.error?.type}`) }).toEqual({
    status: 'failed',
    steps: ['hold:NotReleased'],
  });
  // Never released, it read at most once, while held (none if the drop came before its first workflow task
  // sent the reads: they are cancelled unsent), and changed nothing.
  expect((await readsAndRelease('failover-dropped-a')).dnsChecks).toBeLessThanOrEqual(1);
  expect(await recordValue(stack, `dropped-a.${ZONE}`)).toBe(SEEDED);

  await letGoByHand(hand);
});

test('an evacuation of 200 services takes their locks 25 to a workflow task; one held in the second batch refuses it, and every lock it took is let go', async () => {
  // 200 at once put every held failover's start (each carries the signed plan) in one workflow task's reply.
  const ids = Array.from({ length: 200 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
  // many-000 (the first wave) runs a second's wait; the others never run here, or hold a lock by hand.
  for (const id of ids) waitRunbook(id, id === 'many-000' ? '1s' : '10m');
  evacuationFile('many-plan', [
    { id: 'first', runbooks: [ids[0]] },
    { id: 'later', runbooks: ids.slice(1, 101), approval: { prompt: 'go on?' } },
    { id: 'last', runbooks: ids.slice(101) },
  ]);
  // many-028 is in the second batch (many-000 alone, many-001…many-025, then many-026…many-050).
  const hand = await holdByHand('many-028');

  // Past the CLI's visibility check: the workflow refuses.
  const refused = await evacuateRefused('many-plan', 'INC-3 many');
  expect(refused.exitCode).toBe(4);
  expect(refused.message).toMatch(/waves\[1\]\.runbooks\[27\]: many-028 is held by failover-many-028/);
  // The refusal comes once every failover it started held has closed: their locks are free as it is seen.
  const dropped = ids.slice(0, 51).filter((id) => id !== 'many-028');
  const stillHeld = await Promise.all(
    dropped.map(async (id) => [
      id,
      (await temporal.workflow.getHandle(`failover-${id}`).describe()).status.name,
    ]),
  );
  expect(stillHeld.filter(([, status]) => status === 'RUNNING')).toEqual([]);
  // Every failover it started held (first batch and second) ended having changed nothing: the locks are free.
  for (const id of ['many-000', 'many-025', 'many-050']) {
    const held = JSON.parse(
      (await drctl(['status', `failover-${id}`, '--output', 'json'], env)).stdout,
    ) as FailoverResult;
    expect({
      id,
      status: held.status,
      steps: held.timeline.map((e) => `${e.stepId}:${e.error?.type}`),
    }).toEqual({
      id,
      status: 'failed',
      steps: ['hold:NotReleased'],
    });
  }
  await letGoByHand(hand);

  // With every lock free, it takes all 200 (the later waves' held until the approval) and holds them.
  const workflowId = await evacuate('many-plan', 'INC-3 many again');
  for (;;) {
    const progress = await evacuationStatus(env, workflowId);
    if (progress.awaiting.some((gate) => gate.stepId === 'later')) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const described = await Promise.all(
    ids.map(async (id) => [id, (await temporal.workflow.getHandle(`failover-${id}`).describe()).status.name]),
  );
  expect(described.filter(([, status]) => status === 'RUNNING').map(([id]) => id)).toEqual(ids.slice(1));

  const abort = await drctl(['abort', workflowId, '--reason', 'called off'], asOperator(env, 'bob'));
  expect(abort.stderr).toBe('');
  // Followed with the CLI: a page of this history is over gRPC's default 4 MB (each start carries the plan).
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  expect(followed.stderr).toBe('');
  const ending = JSON.parse(followed.stdout) as EvacuationResult;
  expect(ending.status).toBe('aborted');
  expect(ending.services.filter((s) => s.state === 'skipped')).toHaveLength(199);
  // Every held failover ends, having changed nothing (its wave never started it): its lock is free.
  const held = ids.slice(1).map((id) => temporal.workflow.getHandle(`failover-${id}`));
  await Promise.all(held.map((handle) => handle.result().catch(() => undefined)));
  const ended = await Promise.all(held.map(async (handle) => (await handle.describe()).status.name));
  expect(new Set(ended)).toEqual(new Set(['FAILED']));
});
