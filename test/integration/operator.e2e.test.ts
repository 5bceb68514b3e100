import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runLockId } from '../../common/run-lock';
import type { EvidenceManifest } from '../../evidence/manifest';
import { createUnleashClientReader } from '../../activities/flags/unleash-client-reader';
import ehrDb from '../../runbooks/examples/ehr-db';
import type { Step } from '../../runbooks/schema';
import {
  killPostgresPrimary,
  rebuildPrimaryAsReplica,
  resetStack,
  restartPostgresPrimary,
} from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FenceFollowUpState } from '../../workflows/fence-follow-up';
import type { FailoverProgress, FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue, sql } from './estate-readers';
import { withSandboxClient } from './sandbox-data-converter';

/**
 * The operator's commands on the real stack, through the real CLI: a two-person approval gate, abort with
 * rollback, an unreachable primary that needs an approval to go on unfenced, and failback.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `operator-${randomUUID()}`);
  worker = await startWorkerProcess(env);
});

afterEach(async () => {
  // A follow-up left trying would fence the primary the next test's reset brings back.
  const open = JSON.parse(
    (await drctl(['runs', '--kind', 'fence-follow-up', '--status', 'running', '--output', 'json'], env))
      .stdout,
  ) as Array<{ workflowId: string }>;
  for (const { workflowId } of open) await drctl(['close', workflowId, '--reason', 'test over'], env);
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack();
});

const as = (operator: 'alice' | 'bob' | 'carol' | 'dave') => asOperator(env, operator);

/** ehr-db with extra steps inserted after the named ones, reviewed into the worker's catalog as a JSON file. */
function variant(
  id: string,
  inserts: Array<{ after: string; step: Partial<Step> & { id: string; kind: Step['kind'] } }>,
): string {
  const steps: unknown[] = [...ehrDb.steps];
  for (const { after, step } of inserts) {
    steps.splice(steps.findIndex((s) => (s as Step).id === after) + 1, 0, step);
  }
  const file = join(catalogDir(env), `${id}.json`);
  writeFileSync(file, JSON.stringify({ ...ehrDb, id, steps }));
  return file;
}

async function startRun(file: string, operator: 'alice' | 'bob'): Promise<string> {
  const started = await drctl(
    ['failover', file, '--reason', 'operator e2e', '--yes', '--output', 'json'],
    as(operator),
  );
  expect(started.code).toBe(0);
  return (JSON.parse(started.stdout) as { workflowId: string }).workflowId;
}

/** The evidence bundle of `workflowId` (of its run `runId`), once the ledger has written it (moments after it closed). */
async function bundleOf(workflowId: string, runId?: string): Promise<{ manifest: EvidenceManifest }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const shown = await drctl(['evidence', 'show', workflowId, '--output', 'json'], env);
    const bundles =
      shown.code === 0 ? (JSON.parse(shown.stdout) as Array<{ manifest: EvidenceManifest }>) : [];
    // `evidence show` of an id also lists the bundles that name it as a child: this run's own is the one wanted.
    const bundle = bundles.find(
      ({ manifest }) =>
        manifest.run.workflowId === workflowId && (runId === undefined || manifest.run.runId === runId),
    );
    if (bundle) return bundle;
    if (Date.now() > deadline)
      throw new Error(`no evidence bundle of ${workflowId} run ${runId}: ${shown.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Until a run started in the background runs (an earlier run of the same lock id may have ended); fails at once,
 * with its output, if the command that starts it ends first.
 */
async function waitUntilStarted(
  workflowId: string,
  starting: Promise<{ code: number; stdout: string; stderr: string }>,
): Promise<void> {
  let ended: { code: number; stdout: string; stderr: string } | undefined;
  void starting.then((result) => (ended = result));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const read = await drctl(['status', workflowId, '--output', 'json'], env);
    const status = read.code === 0 ? (JSON.parse(read.stdout) as { status?: string }).status : undefined;
    if (/running|paused/.test(status ?? '')) return;
    if (ended !== undefined)
      throw new Error(`the start ended first (exit ${ended.code}): ${ended.stderr}${ended.stdout}`);
    if (Date.now() > deadline) throw new Error(`${workflowId} did not start within 60 s: ${read.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function waitUntilAwaiting(workflowId: string, stepId: string): Promise<FailoverProgress> {
  for (;;) {
    const status = JSON.parse(
      (await drctl(['status', workflowId, '--output', 'json'], env)).stdout,
    ) as FailoverProgress;
    if (status.awaiting?.some((a) => a.stepId === stepId)) return status;
    expect(status.status).toMatch(/running|paused/);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** What `status --follow --output json` prints: the result, with the state of each follow-up it started. */
type FollowedResult = FailoverResult & { followUpStates?: Record<string, Partial<FenceFollowUpState>> };

async function finalResult(workflowId: string): Promise<{ code: number; result: FollowedResult }> {
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  return { code: followed.code, result: JSON.parse(followed.stdout) as FollowedResult };
}

test('a two-person gate refuses its initiator and accepts a second operator, on record', async () => {
  const workflowId = await startRun(
    variant('ehr-db-two-person', [
      { after: 'preflight', step: { id: 'production-approval', kind: 'approval', twoPerson: true } },
    ]),
    'alice',
  );
  // Followed in text (without a terminal) from before the gate: it says what the run waits for and the command.
  const followed = drctl(['status', workflowId, '--follow'], env);
  await waitUntilAwaiting(workflowId, 'production-approval');
  const text = await drctl(['status', workflowId], env);
  expect(text.stdout).toContain(`drctl approve ${workflowId} --step production-approval`);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');

  const self = await drctl(['approve', workflowId, '--reason', 'mine'], as('alice'));
  expect(self.code).toBe(4);
  expect(self.stderr).toContain('two-person approval: alice started this run');
  const other = await drctl(
    ['approve', workflowId, '--reason', 'INC-4411 confirmed', '--output', 'json'],
    as('bob'),
  );
  expect(other.code).toBe(0);
  // Before: the reply named neither the run nor the workflow it acted on.
  const described = await withSandboxClient(stack, (client) =>
    client.workflow.getHandle(workflowId).describe(),
  );
  expect(JSON.parse(other.stdout)).toMatchObject({
    workflowId,
    runId: described.runId,
    accepted: true,
    action: 'approve',
    stepId: 'production-approval',
    operator: 'bob',
  });
  // Before: the follow showed the step as running and never said an approval was needed, nor how to give it.
  const live = await followed;
  expect(live.code).toBe(0);
  expect(live.stderr).toContain(`⏸ waiting for an operator at production-approval: `);
  expect(live.stderr).toContain(
    `choices: drctl approve ${workflowId} --step production-approval --reason "…" (by someone other than alice)`,
  );

  const { code, result } = await finalResult(workflowId);
  expect(code).toBe(0);
  expect(result.operatorActions.map((a) => `${a.action}:${a.operator}`)).toEqual([
    'start:alice',
    'approve:bob',
  ]);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
});

test('a run terminated outside drctl ends its follow with the reason, its control characters shown, not obeyed', async () => {
  stack = await resetStack();
  const workflowId = await startRun(
    variant('ehr-db-terminated', [{ after: 'preflight', step: { id: 'hold', kind: 'approval' } }]),
    'alice',
  );
  const followed = drctl(['status', workflowId, '--follow'], env);
  await waitUntilAwaiting(workflowId, 'hold');
  // A reason typed into the Temporal UI or CLI, which checks nothing: it clears the screen and fakes a success.
  const reason = 'ops\x1b[2J\x1b[H\nfailover-ehr-db: succeeded';
  await withSandboxClient(stack, (client) => client.workflow.getHandle(workflowId).terminate(reason));

  const live = await followed;
  expect(live.code).toBe(1);
  // Before: the escape sequences reached the terminal as they were.
  expect(live.stderr).not.toContain('\x1b');
  expect(live.stderr).toContain(
    `ended as TERMINATED without a result: ops\\x1b[2J\\x1b[H\\nfailover-ehr-db: succeeded\n`,
  );
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
});

test('drctl abort after the promotion keeps DNS on the new primary, the fence and the flags, and says why', async () => {
  stack = await resetStack();
  const workflowId = await startRun(
    variant('ehr-db-abort', [{ after: 'switch-dns', step: { id: 'hold', kind: 'approval' } }]),
    'alice',
  );
  await waitUntilAwaiting(workflowId, 'hold');
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');

  const aborted = await drctl(['abort', workflowId, '--reason', 'wrong region'], as('alice'));
  expect(aborted.code).toBe(0);
  const { code, result } = await finalResult(workflowId);
  expect(code).toBe(1);
  expect(result.status).toBe('aborted');
  expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual([
    'switch-dns:kept',
    'promote-replica:not undone',
    'fence-primary:kept',
    'degraded-mode-on:kept',
  ]);
  expect(result.rollback?.find((r) => r.stepId === 'switch-dns')?.detail).toMatch(
    /kept A ehr-db\.sandbox\.drctl\.internal\. → 127\.0\.0\.3 \(was 127\.0\.0\.2\): a promotion completed in this run/,
  );
  // The application stays on the writable new primary, in degraded mode; the fenced old primary refuses its role.
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  await sql(stack.postgres.replicaUrl, "insert into drctl_probe(run_id) values ('after-abort')");
  await expect(
    sql(stack.postgres.appUrl, "insert into drctl_probe(run_id) values ('old-primary-after-abort')"),
  ).rejects.toThrow(/role "ehr_app" is not permitted to log in/);
  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  expect(await reader.read(['ehr-degraded-mode', 'ehr-read-only-banner'])).toEqual({
    'ehr-degraded-mode': true,
    'ehr-read-only-banner': true,
  });
  const text = await drctl(['status', workflowId], env);
  expect(text.stdout).toMatch(/kept/);
  // An aborted run exits 1, as the help says, in text and JSON (before: 0; only --follow said 1).
  expect(text.code).toBe(1);
  expect((await drctl(['status', workflowId, '--output', 'json'], env)).code).toBe(1);
  // Once it has ended, a second abort (or a decision) is refused as such, not as an unknown id (before: exit 2,
  // "check the id").
  for (const again of [
    ['abort', workflowId, '--reason', 'again'],
    ['decide', workflowId, 'hold', 'skip', '--reason', 'again'],
  ]) {
    const refused = await drctl([...again, '--output', 'json'], as('alice'));
    expect({ code: refused.code, error: JSON.parse(refused.stdout).error }).toEqual({
      code: 4,
      error: expect.objectContaining({
        code: 'RunEnded',
        message: expect.stringContaining(`${workflowId} has already ended (failed)`),
      }),
    });
  }
});

test('with the old primary down, two different operators approve going on unfenced; it is fenced when it comes back', async () => {
  stack = await resetStack();
  await killPostgresPrimary();
  // Started followed, as at 3 a.m.: its JSON comes when the run ends.
  const followedFailover = drctl(
    [
      'failover',
      variant('ehr-db-unfenced', []),
      '--reason',
      'operator e2e',
      '--yes',
      '--follow',
      '--output',
      'json',
    ],
    as('alice'),
  );
  const workflowId = runLockId('ehr-db-unfenced');
  await waitUntilStarted(workflowId, followedFailover);
  const waiting = await waitUntilAwaiting(workflowId, 'fence-primary');
  expect(waiting.awaiting[0]?.prompt).toMatch(/unreachable .* and could not be fenced/);
  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(true);

  const first = await drctl(
    ['approve', workflowId, '--reason', 'us-east-1 host confirmed down'],
    as('alice'),
  );
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/1 more different operator needed/);
  const again = await drctl(['approve', workflowId, '--reason', 'really down'], as('alice'));
  expect(again.code).toBe(4);
  expect(again.stderr).toMatch(
    /alice already approved "fence-primary"; 1 more approval from other operators needed \(2 approvers\)/,
  );
  // One person's word is not enough: the replica is still a standby.
  const [stillStandby] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(stillStandby?.recovering).toBe(true);
  expect((await drctl(['approve', workflowId, '--reason', 'confirmed with AWS'], as('bob'))).code).toBe(0);

  const { code, result } = await finalResult(workflowId);
  expect(code).toBe(0);
  expect(result.timeline.find((e) => e.stepId === 'fence-primary')?.summary).toMatch(
    /proceeding unfenced, approved by alice and bob/,
  );
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  const followUpId = result.followUps?.[0]?.workflowId as string;
  expect(followUpId).toBe('fence-follow-up-ehr-db-unfenced-ehr');
  // Before: the followed run's JSON left out what `status --output json` says of its follow-ups.
  expect(result.followUpStates?.[followUpId]).toMatchObject({ status: 'trying' });
  // So did the followed failover's own JSON (before: no followUpStates).
  const followed = await followedFailover;
  expect(followed.code).toBe(0);
  expect((JSON.parse(followed.stdout) as FollowedResult).followUpStates?.[followUpId]).toMatchObject({
    status: 'trying',
    database: 'ehr',
  });
  const trying = await drctl(['status', workflowId], env);
  expect(trying.stdout).toMatch(/the old primary of ehr is NOT fenced yet/);
  // The failover's evidence bundle is written while its follow-up still tries, naming it as running (before: the
  // ledger waited for the follow-up to close, and every later run's bundle waited behind it).
  const bundle = await bundleOf(workflowId, result.runId);
  expect(bundle.manifest.run.children).toEqual([
    expect.objectContaining({ workflowId: followUpId, closeStatus: 'RUNNING' }),
  ]);
  expect(bundle.manifest.files.map((file) => file.path)).not.toContain(`children/${followUpId}/history.json`);

  // The old primary comes back from its partition, still a writable primary: the follow-up fences it.
  await restartPostgresPrimary();
  const fenced = await waitForFollowUp(followUpId, 'fenced');
  expect(fenced.lastResult).toMatch(/fenced 127\.0\.0\.2/);
  await expect(
    sql(stack.postgres.appUrl, "insert into drctl_probe(run_id) values ('split-brain')"),
  ).rejects.toThrow(/role "ehr_app" is not permitted to log in/);
  const after = await drctl(['status', workflowId], env);
  expect(after.stdout).toMatch(/the old primary of ehr is fenced/);
  // How the follow-up ended has a bundle of its own (its failover's was written while it tried).
  const followUpBundle = await bundleOf(followUpId);
  expect(followUpBundle.manifest.run).toMatchObject({ kind: 'fence-follow-up', outcome: 'fenced' });
  expect(followUpBundle.manifest.files.map((file) => file.path)).toEqual(
    expect.arrayContaining(['history.json', 'result.json', 'operator-actions.json']),
  );
});

test('a follow-up an operator closes stops trying, on record', async () => {
  stack = await resetStack();
  await killPostgresPrimary();
  const workflowId = await startRun(variant('ehr-db-closed', []), 'alice');
  await waitUntilAwaiting(workflowId, 'fence-primary');
  expect((await drctl(['approve', workflowId, '--reason', 'down'], as('alice'))).code).toBe(0);
  expect((await drctl(['approve', workflowId, '--reason', 'down'], as('bob'))).code).toBe(0);
  const { result } = await finalResult(workflowId);
  const followUpId = result.followUps?.[0]?.workflowId as string;
  expect((await drctl(['close', followUpId], as('bob'))).code).toBe(2);
  // A close is signed and checked against the access policy: carol (dba) may approve but not abort.
  const refused = await drctl(['close', followUpId, '--reason', 'host gone'], as('carol'));
  expect(refused.code).toBe(4);
  expect(refused.stderr).toMatch(/not permitted: carol may not abort runbook ehr-db-closed/);
  const closed = await drctl(
    ['close', followUpId, '--reason', 'host decommissioned, INC-4411', '--output', 'json'],
    as('bob'),
  );
  expect(closed.code).toBe(0);
  // The reply names the follow-up and its run, as approve, decide and abort do.
  const followUpRun = await withSandboxClient(stack, (client) =>
    client.workflow.getHandle(followUpId).describe(),
  );
  expect(JSON.parse(closed.stdout)).toMatchObject({
    workflowId: followUpId,
    runId: followUpRun.runId,
    operator: 'bob',
  });
  const state = await waitForFollowUp(followUpId, 'closed');
  expect(state.closedBy).toMatchObject({ operator: 'bob', reason: 'host decommissioned, INC-4411' });
  // The signed close is kept in the evidence chain, past Temporal's retention.
  expect((await bundleOf(followUpId)).manifest.run).toMatchObject({
    kind: 'fence-follow-up',
    outcome: 'closed',
  });
  expect(state.closedBy?.signed?.statement).toMatchObject({ action: 'abort', stepId: 'close' });
  const shown = await drctl(['status', followUpId], env);
  expect(shown.stdout).toMatch(/follow-up closed by bob/);
});

async function waitForFollowUp(
  followUpId: string,
  status: FenceFollowUpState['status'],
): Promise<FenceFollowUpState> {
  for (;;) {
    const shown = await drctl(['status', followUpId, '--output', 'json'], env);
    const state = JSON.parse(shown.stdout) as FenceFollowUpState;
    if (state.status === status) return state;
    expect(state.status).toBe('trying');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

test('drctl failback returns DNS, the primary role and the flags to the original topology', async () => {
  stack = await resetStack();
  const failover = await drctl(
    ['failover', 'ehr-db', '--reason', 'before failback', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(failover.code).toBe(0);
  // A second failover, made by mistake, stops at pre-flight (the replica is the primary now): it changed nothing,
  // so the failback reverses the first (before: it reversed this one, restored no flag, and left degraded mode on).
  const mistaken = await drctl(['failover', 'ehr-db', '--reason', 'by mistake', '--yes', '--follow'], env);
  expect(mistaken.code).toBe(1);
  // Its pre-flight says what the replica is now (before: "it already takes writes", of a fenced read-only one).
  expect(mistaken.stderr).toContain('it is not a standby (promoted earlier');
  await rebuildPrimaryAsReplica();
  // Planned first, as an on-call engineer would: the plan is a run of ehr-db's failback too.
  // A dry run needs no reason: it starts and records nothing (before: "--reason is required", exit 2).
  const planned = await drctl(['failback', 'ehr-db', '--dry-run', '--output', 'json'], env);
  expect(planned.code).toBe(0);
  expect((JSON.parse(planned.stdout) as { ready: boolean }).ready).toBe(true);

  const back = await drctl(
    ['failback', 'ehr-db', '--reason', 'region healthy again', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(back.stderr).toBe('');
  expect(back.code).toBe(0);
  expect((JSON.parse(back.stdout) as FailoverResult).runbookId).toBe('ehr-db-failback');
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  const [original] = await sql<{ recovering: boolean }>(
    stack.postgres.primaryUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(original?.recovering).toBe(false);
  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  expect(await reader.read(['ehr-degraded-mode'])).toEqual({ 'ehr-degraded-mode': false });

  // The post-incident record of the failback: each step with its wall-clock times, who acted, in Markdown or JSON
  // (before: "drctl report renders drill reports", exit 2).
  const { runId } = JSON.parse(back.stdout) as FailoverResult;
  // The runs of ehr-db are its failovers and its failback (before: the failback, recorded under
  // ehr-db-failback, was missing from the list an on-call engineer reads first).
  const listed = JSON.parse(
    (await drctl(['runs', '--runbook', 'ehr-db', '--since', '1h', '--output', 'json'], env)).stdout,
  ) as Array<{ runId: string; kind: string; runbookId: string }>;
  expect(listed.find((run) => run.runId === runId)?.kind).toBe('failback');
  expect(listed.some((run) => run.kind === 'plan' && run.runbookId === 'ehr-db-failback')).toBe(true);
  expect(listed.filter((run) => run.kind === 'failover').length).toBeGreaterThanOrEqual(2);
  const report = await drctl(['report', 'failover-ehr-db', '--run-id', runId], env);
  expect(report.code).toBe(0);
  expect(report.stdout).toMatch(/^# SUCCEEDED: failover failover-ehr-db of runbook ehr-db-failback\n/);
  expect(report.stdout).toMatch(
    /\n\| switch-dns \| dns\.switch \| succeeded \| \d{4}-\d\d-\d\dT[\d:.]+Z \(T\+/,
  );
  expect(report.stdout).toMatch(/\n\| [^|]+ \| alice \| start \|  \| region healthy again \|/);
  const json = await drctl(['report', 'failover-ehr-db', '--run-id', runId, '--format', 'json'], env);
  expect(JSON.parse(json.stdout)).toMatchObject({ runId, status: 'succeeded' });
  const html = await drctl(['report', 'failover-ehr-db', '--format', 'html'], env);
  expect({ code: html.code, stderr: html.stderr }).toEqual({
    code: 2,
    stderr: "drctl: --format html: a failback's report is md or json\n",
  });
});
