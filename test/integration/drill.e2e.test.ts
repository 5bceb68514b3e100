import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { operatorPaths } from '../../sandbox/operator-seed';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { DrillResult } from '../../workflows/drill-types';
import { runbookDrill, startDrill, type DrillHistoryEntry } from '../../cli/drill-runs';
import { findRunbook } from '../../runbooks/catalog';
import { signerOf } from './operators';
import { drctl, drctlEnv, drctlUntilAccepted, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue, sql } from './estate-readers';
import { withSandboxClient } from './sandbox-data-converter';

/**
 * `drctl drill` on the real local stack: a drill measures RTO and RPO from a real canary and a real
 * injected failure, its result is in history (Temporal visibility), every report format renders, and a
 * drill schedule can be created, triggered and deleted.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `drill-${randomUUID()}`);
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await drctl(['drill', 'delete', 'ehr-db'], env);
  await stopProcess(worker);
  await resetStack();
});

test('a drill measures RTO and RPO on the real stack and reports them in every format', async () => {
  const run = await drctl(
    ['drill', 'run', 'ehr-db', '--reason', 'e2e drill', '--follow', '--restore-sandbox', '--output', 'json'],
    env,
  );
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as DrillResult;
  expect(result.error).toBeUndefined();
  expect(result.passed).toBe(true);
  expect(result.failover.status).toBe('succeeded');
  expect(result.measured.rtoMs).toBeGreaterThan(0);
  expect(result.measured.rtoMs).toBeLessThan(result.objectives.rtoMs);
  expect(result.dataLoss?.lostRows).toBe(0);
  expect(result.canary?.acknowledged).toBeGreaterThan(5);
  // The RTO runs from the start of the injection, no later than the first write a client saw fail (before: from
  // when the fence returned, after the canary's writes had been failing for a while); the RPO up to that return.
  const { injection, dataLoss } = result;
  expect(Date.parse(injection.injectedAt)).toBeLessThanOrEqual(
    Date.parse(result.canary?.writesFailingSince ?? ''),
  );
  expect(result.measured.rtoMs).toBe(Date.parse(result.restoredAt ?? '') - Date.parse(injection.injectedAt));
  expect(dataLoss?.rpoMs).toBe(
    Date.parse(injection.inEffectAt ?? '') - Date.parse(dataLoss?.newestPresentAt ?? ''),
  );
  // --restore-sandbox put the seeded topology back: the replica streams again, DNS names the primary.
  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(true);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  expect(result.verdicts.map((v) => `${v.objective}:${v.passed}`)).toEqual(['RTO:true', 'RPO:true']);
  expect(result.criticalPath.map((step) => step.stepId)).toContain('promote-replica');
  expect(result.runbookHash).toMatch(/^[0-9a-f]{64}$/);

  const history = JSON.parse(
    (await drctl(['drill', 'history', 'ehr-db', '--output', 'json'], env)).stdout,
  ) as DrillHistoryEntry[];
  const entry = history.find((h) => h.drillId === result.drillId);
  expect(entry).toMatchObject({
    outcome: 'passed',
    rtoMs: result.measured.rtoMs,
    rpoMs: result.measured.rpoMs,
  });
  const historyTable = (await drctl(['drill', 'history', 'ehr-db'], env)).stdout;
  expect(historyTable).toMatch(/^STARTED +DRILL +OUTCOME +RTO +RPO\n/);
  expect(historyTable).toContain(result.drillId);

  const junit = await drctl(['report', result.drillId, '--format', 'junit'], env);
  expect(junit.code).toBe(0);
  expect(junit.stdout.match(/<testcase /g)).toHaveLength(2);
  expect(junit.stdout).not.toContain('<failure');
  const markdown = await drctl(['report', result.drillId, '--format', 'md'], env);
  expect(markdown.stdout).toContain(result.drillId);
  expect(markdown.stdout).toMatch(/RTO/);
  expect(markdown.stdout).toContain(`began at ${injection.injectedAt}, in effect at ${injection.inEffectAt}`);
  const json = await drctl(['report', result.drillId, '--format', 'json'], env);
  expect(JSON.parse(json.stdout)).toMatchObject({ drillId: result.drillId, passed: true });
  // --output json, as every command takes it, gives the JSON report too (before: Markdown, silently).
  const asOutput = await drctl(['report', result.drillId, '--output', 'json'], env);
  expect(JSON.parse(asOutput.stdout)).toMatchObject({ drillId: result.drillId, passed: true });
  const html = await drctl(['report', result.drillId, '--format', 'html'], env);
  expect(html.stdout).toMatch(/^<!doctype html>/i);

  // The drill's failover verifies offline from its own saved status: its start is the drill's (before: NOT
  // verified, its recorded reason "<drill>: e2e drill" differed from the signed "e2e drill").
  const child = await drctl(
    ['status', result.failover.workflowId, '--run-id', result.failover.runId ?? '', '--output', 'json'],
    env,
  );
  const saved = join(mkdtempSync(join(tmpdir(), 'drctl-drill-child-')), 'child.json');
  writeFileSync(saved, child.stdout);
  const verified = await drctl(['verify-run', '--file', saved, '--policy', operatorPaths.policyFile], env);
  expect(verified.stdout).toContain(`in the start of ${result.drillId}`);
  expect(verified.code).toBe(0);
  // Its signed start, taken from its history and sent again under its id within the 5 minutes, starts nothing
  // (before: a second drill, a real failure injected, under alice's name).
  const drillRunId = await withSandboxClient(
    stack,
    async (client) => (await client.workflow.getHandle(result.drillId).describe()).runId,
  );
  expect(await startAgainWithItsArguments(result.drillId)).toMatch(
    new RegExp(`already started run .* of ${result.drillId} at .*: a start statement starts one run`),
  );
  // --run-id names the run whose report is rendered (before: ignored for a drill, the newest run's was).
  const byRunId = await drctl(['report', result.drillId, '--run-id', drillRunId, '--format', 'json'], env);
  expect(byRunId.code).toBe(0);
  expect(JSON.parse(byRunId.stdout)).toMatchObject({ drillId: result.drillId, passed: true });
  // The refused copy is now the newest run under the drill's id, and the drill's report is still the drill's,
  // saying which run it passed over (before: the report of the refusal, exit 1).
  const afterReplay = await drctl(['report', result.drillId, '--format', 'json'], env);
  expect({ code: afterReplay.code, stderr: afterReplay.stderr }).toEqual({
    code: 0,
    stderr: expect.stringContaining(
      `is a start the worker refused, which changed nothing; this is the report of run ${drillRunId}, the newest that ran`,
    ),
  });
  expect(JSON.parse(afterReplay.stdout)).toMatchObject({ drillId: result.drillId, passed: true });
});

test('a drill whose held failover an operator aborts during the warm-up stops, injecting nothing: the primary is not fenced', async () => {
  const started = await drctl(
    ['drill', 'run', 'ehr-db', '--reason', 'e2e drill called off', '--warmup', '60s', '--output', 'json'],
    env,
  );
  expect(started.code).toBe(0);
  const { drillId } = JSON.parse(started.stdout) as { drillId: string };
  // While the drill warms up, its failover says who holds it (before: "running" with no step, as if stuck).
  let held = await drctl(['status', 'failover-ehr-db'], env);
  for (let tries = 0; !held.stdout.includes('⏸ held by') && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    held = await drctl(['status', 'failover-ehr-db'], env);
  }
  expect(held.stdout).toContain(
    `⏸ held by ${drillId} under its lock, changing nothing until it releases this run`,
  );
  // verify-run of the running drill says so at once (before: it waited, without a word, for the drill to end).
  const early = await drctl(['verify-run', drillId, '--policy', operatorPaths.policyFile], env);
  expect(early.code).toBe(4);
  expect(early.stderr).toContain(`${drillId} is still running; its record, and so what there is to verify`);
  // A second drill meanwhile is refused before it starts (before: "started", exit 0, then a drill recorded failed).
  const second = await drctl(['drill', 'run', 'ehr-db', '--reason', 'second drill', '--output', 'json'], env);
  expect(second.code).toBe(4);
  expect(JSON.parse(second.stdout).error).toMatchObject({
    code: 'RunbookBusy',
    message: expect.stringContaining('a run of it is open under its lock failover-ehr-db'),
  });
  // A drill that slips past that check (started straight through the client, as a race would) is refused by the
  // lock itself: outcome `refused`, nothing injected (before: recorded `failed`, as if it had tested and missed).
  const raced = await withSandboxClient(stack, async (client) => {
    const racedId = await startDrill(
      client,
      env.DRCTL_TASK_QUEUE as string,
      runbookDrill(findRunbook('ehr-db', []).runbook),
      {
        reason: 'race past the CLI',
        signer: signerOf('alice'),
        action: 'fence-primary',
        canaryIntervalMs: 100,
        warmupMs: 0,
      },
    );
    const racedResult = (await client.workflow.getHandle(racedId).result()) as DrillResult;
    return { racedId, racedResult };
  });
  expect(raced.racedResult).toMatchObject({
    passed: false,
    refusal: expect.stringContaining('holds its lock failover-ehr-db'),
    injection: { summary: 'not injected' },
  });
  const racedSummary = await drctl(['status', raced.racedId], env);
  expect(racedSummary.stdout).toContain(`${raced.racedId}: REFUSED (runbook ehr-db`);
  expect(racedSummary.stdout).toContain('Refused at its start: another run of ehr-db holds its lock');
  const racedHistory = JSON.parse(
    (await drctl(['drill', 'history', 'ehr-db', '--output', 'json'], env)).stdout,
  ) as DrillHistoryEntry[];
  expect(racedHistory.find((h) => h.drillId === raced.racedId)).toMatchObject({ outcome: 'refused' });
  // An operator aborts the drill: the abort goes to the failover it holds (before: "Encoded failure", exit 1),
  // once the drill has started it.
  const aborted = await drctlUntilAccepted(['abort', drillId, '--reason', 'drill called off'], env);
  expect(aborted.code).toBe(0);
  expect(aborted.stderr).toContain(`acting on the run it holds, failover-ehr-db`);

  const ended = await drctl(['status', drillId, '--follow', '--output', 'json'], env);
  const result = JSON.parse(ended.stdout) as DrillResult;
  // Before: the drill went on and, at the end of its warm-up, fenced the primary with no failover left.
  expect(result.error).toMatch(/failover ended before the failure was injected.*nothing was injected/);
  expect(result.injection.summary).toBe('not injected');
  expect(result.passed).toBe(false);
  // Called off, not failed: history and every report say who called it off (before: outcome "failed").
  expect(result.calledOff).toMatchObject({ by: 'alice', reason: 'drill called off' });
  const history = JSON.parse(
    (await drctl(['drill', 'history', 'ehr-db', '--output', 'json'], env)).stdout,
  ) as DrillHistoryEntry[];
  expect(history.find((h) => h.drillId === drillId)).toMatchObject({ outcome: 'called-off' });
  const summary = await drctl(['status', drillId], env);
  expect(summary.stdout).toContain(`${drillId}: CALLED OFF (runbook ehr-db`);
  expect(summary.stdout).toContain('Called off by alice at ');
  // Its evidence bundle says so too: the auditor's copy outlives Temporal's retention.
  let bundled: Array<{ manifest: { run: { outcome: string } } }> = [];
  for (let tries = 0; bundled.length === 0 && tries < 60; tries++) {
    const shown = await drctl(['evidence', 'show', drillId, '--output', 'json'], env);
    if (shown.code === 0) bundled = JSON.parse(shown.stdout) as typeof bundled;
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
  expect(bundled.map((bundle) => bundle.manifest.run.outcome)).toEqual(['called-off']);
  const [role] = await sql<{ canLogin: boolean }>(
    stack.postgres.primaryUrl,
    'select rolcanlogin as "canLogin" from pg_roles where rolname = \'ehr_app\'',
  );
  expect(role?.canLogin).toBe(true);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
});

test('an abort of a drill that was terminated while its failover runs names that failover, not "nothing to abort"', async () => {
  await resetStack();
  const started = await drctl(
    ['drill', 'run', 'ehr-db', '--reason', 'e2e drill terminated', '--warmup', '60s', '--output', 'json'],
    env,
  );
  expect(started.code).toBe(0);
  const { drillId } = JSON.parse(started.stdout) as { drillId: string };
  await withSandboxClient(stack, async (client) => {
    // Once the drill holds its failover (a child it abandons when it closes), an operator terminates the drill.
    for (let tries = 0; tries < 100; tries++) {
      const held = await client.workflow
        .getHandle('failover-ehr-db')
        .describe()
        .catch(() => undefined);
      if (held?.parentExecution?.workflowId === drillId && held.status.name === 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await client.workflow.getHandle(drillId).terminate('an operator ended the drill with the temporal CLI');
  });

  const aborted = await drctl(['abort', drillId, '--reason', 'stop what it left'], env);
  // Before: "has already ended (terminated): there is nothing to abort", with its failover still running.
  expect(aborted.code).toBe(4);
  expect(aborted.stderr).toContain(
    `${drillId} has already ended (terminated), but the run it started, failover-ehr-db, is still running: act on it by name`,
  );
  // Its report says how it ended and why, and that a failure may still be in effect (before: "Workflow execution
  // failed").
  const report = await drctl(['report', drillId], env);
  expect(report.code).toBe(1);
  expect(report.stderr).toContain(
    `${drillId} ended terminated without a result: an operator ended the drill with the temporal CLI. Nothing was measured, so there is no report; a failure it injected may still be in effect`,
  );
  const byName = await drctl(['abort', 'failover-ehr-db', '--reason', 'stop what the drill left'], env);
  expect(byName.code).toBe(0);
  await drctl(['status', 'failover-ehr-db', '--follow'], env);
  const [role] = await sql<{ canLogin: boolean }>(
    stack.postgres.primaryUrl,
    'select rolcanlogin as "canLogin" from pg_roles where rolname = \'ehr_app\'',
  );
  expect(role?.canLogin).toBe(true);
});

test('a drill schedule is created with a next run, triggered, and its run appears in history', async () => {
  await resetStack();
  const created = await drctl(
    [
      'drill',
      'schedule',
      'ehr-db',
      '--cron',
      '0 9 15 */3 *',
      '--timezone',
      'Europe/Amsterdam',
      '--reason',
      'scheduled e2e',
      '--output',
      'json',
    ],
    env,
  );
  expect(created.code).toBe(0);
  const { scheduleId, nextRun } = JSON.parse(created.stdout) as { scheduleId: string; nextRun: string };
  expect(scheduleId).toBe('drill-ehr-db');
  expect(Date.parse(nextRun)).toBeGreaterThan(Date.now());
  // A second schedule of the runbook is refused and says what to do (before: exit 1, "Schedule already exists and
  // is running"); a cron expression the server cannot read is bad input naming --cron (before: exit 1).
  const secondSchedule = await drctl(['drill', 'schedule', 'ehr-db', '--reason', 'again'], env);
  expect(secondSchedule.code).toBe(4);
  expect(secondSchedule.stderr).toContain('drill-ehr-db exists already: one schedule per runbook');
  expect(secondSchedule.stderr).toContain('drctl drill delete ehr-db --reason');
  const badCron = await drctl(
    ['drill', 'schedule', 'patient-portal-rds', '--cron', '61 9 * * *', '--reason', 'x'],
    env,
  );
  expect(badCron.code).toBe(2);
  expect(badCron.stderr).toMatch(
    /--cron "61 9 \* \* \*" is not a cron expression Temporal reads .*Minute is not in range/,
  );

  const listed = JSON.parse((await drctl(['drill', 'schedules', '--output', 'json'], env)).stdout) as Array<{
    scheduleId: string;
    nextRun: string;
  }>;
  expect(listed.find((s) => s.scheduleId === 'drill-ehr-db')?.nextRun).toBe(nextRun);
  // Its cadence as given and its time zone, under a header (before: only the id, the state and the next run).
  const table = (await drctl(['drill', 'schedules'], env)).stdout;
  expect(table).toMatch(/^SCHEDULE +STATE +CADENCE +TIME ZONE +NEXT RUN +RECENT RUNS\n/);
  expect(table).toMatch(
    new RegExp(`drill-ehr-db +active +0 9 15 \\*/3 \\* +Europe/Amsterdam +${nextRun.replace(/\./g, '\\.')}`),
  );
  expect((await drctl(['drill', 'pause', 'ehr-db'], env)).code).toBe(0);
  const paused = JSON.parse((await drctl(['drill', 'schedules', '--output', 'json'], env)).stdout) as Array<{
    scheduleId: string;
    paused: boolean;
  }>;
  expect(paused.find((s) => s.scheduleId === 'drill-ehr-db')?.paused).toBe(true);
  expect((await drctl(['drill', 'resume', 'ehr-db'], env)).code).toBe(0);

  const before = new Set(
    (
      JSON.parse(
        (await drctl(['drill', 'history', 'ehr-db', '--output', 'json'], env)).stdout,
      ) as DrillHistoryEntry[]
    ).map((h) => h.drillId),
  );
  expect((await drctl(['drill', 'trigger', 'ehr-db'], env)).code).toBe(0);
  let triggered: DrillHistoryEntry | undefined;
  while (triggered?.status !== 'COMPLETED') {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const history = JSON.parse(
      (await drctl(['drill', 'history', 'ehr-db', '--output', 'json'], env)).stdout,
    ) as DrillHistoryEntry[];
    triggered = history.find((h) => !before.has(h.drillId) && h.drillId.startsWith('drill-ehr-db'));
    expect(triggered?.status ?? 'RUNNING').toMatch(/RUNNING|COMPLETED/);
  }
  expect(triggered.outcome).toBe('passed');
  // The scheduled run started on the schedule's standing, signed `schedule create` statement, checked by the worker.
  const report = JSON.parse(
    (await drctl(['report', triggered.drillId, '--format', 'json'], env)).stdout,
  ) as DrillResult;
  expect(report.authorization?.startedBy).toEqual(['drill-ehr-db']);
  expect(report.operatorActions?.[0]?.signed?.statement).toMatchObject({
    action: 'schedule',
    stepId: 'create',
    operator: 'alice',
  });
  // The same standing statement in a drill a client starts (anyone who may start workflows can read the
  // schedule's arguments and start one) is refused before anything is injected: while the schedule exists, and
  // after it is deleted (before: accepted, at any time, and run under alice's name).
  const { args } = await scheduleArguments('drill-ehr-db');
  expect(await startWithArguments('drill-ehr-db', args)).toMatch(
    /standing statement of schedule drill-ehr-db, which holds only for the runs that schedule starts, was sent by a drill it did not start \(schedule drill-ehr-db's record .* does not name drill-ehr-db-client-/,
  );
  expect((await drctl(['drill', 'delete', 'ehr-db'], env)).code).toBe(0);
  expect(await startWithArguments('drill-ehr-db', args)).toMatch(
    /was sent by a drill it did not start \(schedule drill-ehr-db does not exist/,
  );
  const afterDelete = JSON.parse(
    (await drctl(['drill', 'schedules', '--output', 'json'], env)).stdout,
  ) as Array<{ scheduleId: string }>;
  expect(afterDelete.map((s) => s.scheduleId)).not.toContain('drill-ehr-db');
  // Deleted twice: bad input naming the schedule (before: "schedule not found", exit 1).
  const again = await drctl(['drill', 'delete', 'ehr-db'], env);
  expect({ code: again.code, stderr: again.stderr }).toEqual({
    code: 2,
    stderr: 'drctl: no drill schedule drill-ehr-db: drctl drill schedules lists them\n',
  });
  // A whole drill plus a dozen CLI calls: minutes on a shared two-core machine.
}, 420_000);

/** The arguments a drill schedule starts its runs with, as any client may read them. */
async function scheduleArguments(scheduleId: string): Promise<{ args: readonly unknown[] }> {
  return withSandboxClient(stack, async (client) => {
    const { action } = await client.schedule.getHandle(scheduleId).describe();
    return { args: action.args ?? [] };
  });
}

/** Starts a drill as a client would, with a schedule's arguments: its refusal, or "accepted". */
async function startWithArguments(scheduleId: string, args: readonly unknown[]): Promise<string> {
  return withSandboxClient(stack, async (client) => {
    const handle = await client.workflow.start('drillWorkflow', {
      taskQueue: env.DRCTL_TASK_QUEUE as string,
      workflowId: `${scheduleId}-client-${randomUUID()}`,
      args: [...args],
    });
    return handle.result().then(
      (result: DrillResult) => `accepted: ${result.error ?? 'no error'}`,
      (error: Error) => (error.cause as Error | undefined)?.message ?? error.message,
    );
  });
}

/** Starts another run under a drill's id with the arguments its first run began with, as any client could. */
async function startAgainWithItsArguments(workflowId: string): Promise<string> {
  return withSandboxClient(stack, async (client) => {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    const args = await decodeArrayFromPayloads(client.options.loadedDataConverter, payloads);
    const handle = await client.workflow.start('drillWorkflow', {
      taskQueue: env.DRCTL_TASK_QUEUE as string,
      workflowId,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      args,
    });
    return handle.result().then(
      (result: DrillResult) => `accepted: ${result.error ?? 'no error'}`,
      (error: Error) => (error.cause as Error | undefined)?.message ?? error.message,
    );
  });
}
