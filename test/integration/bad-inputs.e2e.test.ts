import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { createUnleashClientReader } from '../../activities/flags/unleash-client-reader';
import ehrDb from '../../runbooks/examples/ehr-db';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { getStack } from './stack';
import { recordValue } from './estate-readers';

/**
 * Bad input against the real local stack, with a worker polling: each command is refused with its documented
 * exit code and a message naming the option or field, and the estate is exactly as seeded afterwards: the
 * Route 53 record still answers the old primary, the degraded-mode flags are off for a real Unleash client,
 * the replica is still in recovery, and no failover or drill of ehr-db was started on this test's task queue.
 * The stack is shared: it is only reset when it is not in its seeded state at the start.
 */
const RECORD = 'ehr-db.sandbox.drctl.internal.';
const STACK_TRACE = /\n\s+at /;

let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let connection: Connection;
let temporal: Client;
const dir = mkdtempSync(join(tmpdir(), 'drctl-bad-e2e-'));

interface Estate {
  record: string | undefined;
  flags: Record<string, boolean | null>;
  replicaInRecovery: boolean;
}

async function replicaInRecovery(): Promise<boolean> {
  const client = new PgClient({ connectionString: stack.postgres.replicaUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ recovering: boolean }>('select pg_is_in_recovery() as recovering');
    return rows[0]?.recovering === true;
  } finally {
    await client.end();
  }
}

/**
 * The estate as the servers report it. Others share the stack: while their reset restarts a server, a read
 * is refused for a moment, so a refused connection is retried (a changed value is not).
 */
async function estate(): Promise<Estate> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readEstate();
    } catch (error) {
      const transient = /ECONNREFUSED|ECONNRESET|starting up|shutting down|terminating/i.test(
        (error as Error).message,
      );
      if (!transient || attempt >= 30) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function readEstate(): Promise<Estate> {
  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  const [record, flags, recovering] = await Promise.all([
    recordValue(stack, RECORD),
    reader.read(stack.unleash.flags),
    replicaInRecovery(),
  ]);
  return { record, flags, replicaInRecovery: recovering };
}

function seeded(): Estate {
  return {
    record: '127.0.0.2',
    flags: Object.fromEntries(stack.unleash.flags.map((flag) => [flag, false])),
    replicaInRecovery: true,
  };
}

/** Failovers and drills of a runbook this test's task queue ever started (any status). */
async function runsStarted(runbookId: string): Promise<{ failover: number; drill: number }> {
  const count = async (kind: string) =>
    (
      await temporal.workflow.count(
        `DrctlRunbook = '${runbookId}' AND DrctlKind = '${kind}' AND TaskQueue = '${env.DRCTL_TASK_QUEUE}'`,
      )
    ).count;
  return { failover: await count('failover'), drill: await count('drill') };
}

beforeAll(async () => {
  stack = getStack();
  if (JSON.stringify(await estate().catch(() => undefined)) !== JSON.stringify(seeded())) {
    stack = await resetStack();
  }
  expect(await estate()).toEqual(seeded());
  env = drctlEnv(stack, `bad-inputs-${randomUUID()}`);
  worker = await startWorkerProcess(env);
  connection = await Connection.connect({ address: stack.temporal.address });
  temporal = new Client({ connection, namespace: stack.temporal.namespace });
});

afterAll(async () => {
  await stopProcess(worker);
  await connection?.close();
});

/** ehr-db with its DNS switch moved before the promotion: valid JSON, refused by the cross-checks. */
function dnsBeforePromotion(): string {
  const steps = [...ehrDb.steps];
  const dns = steps.splice(
    steps.findIndex((step) => step.id === 'switch-dns'),
    1,
  );
  steps.splice(
    steps.findIndex((step) => step.id === 'fence-primary'),
    0,
    ...dns,
  );
  const file = join(dir, 'ehr-db-dns-first.json');
  writeFileSync(file, JSON.stringify({ ...ehrDb, steps }, null, 2));
  return file;
}

function badRetries(): string {
  const file = join(dir, 'ehr-db-bad-retry.json');
  const steps = ehrDb.steps.map((step) =>
    step.id === 'promote-replica' && step.kind !== 'parallel'
      ? { ...step, retry: { ...step.retry, maximumAttempts: 0 } }
      : step,
  );
  writeFileSync(file, JSON.stringify({ ...ehrDb, steps }, null, 2));
  return file;
}

interface Case {
  name: string;
  args: () => string[];
  code: number;
  says: RegExp[];
}

const cases: Case[] = [
  {
    name: 'failover with an empty --reason',
    args: () => ['failover', 'ehr-db', '--reason', '  ', '--yes'],
    code: 2,
    says: [/--reason is required/],
  },
  {
    name: 'failover of an unknown runbook',
    args: () => ['failover', 'ehr-dbb', '--reason', 'INC-1', '--yes'],
    code: 2,
    says: [/no runbook "ehr-dbb"\. Known runbooks: .*ehr-db/],
  },
  {
    name: 'failover with an unknown option',
    args: () => ['failover', 'ehr-db', '--reason', 'INC-1', '--yes', '--forcefully'],
    code: 2,
    says: [/unknown option '--forcefully'/],
  },
  {
    name: 'failover of a runbook switching DNS before the promotion',
    args: () => ['failover', dnsBeforePromotion(), '--reason', 'INC-1', '--yes'],
    code: 2,
    says: [/steps\[\d\]\.records\[0\]\.pointTo: .*add a database\.promote step for "ehr" before this step/],
  },
  {
    name: 'failover of a runbook with maximumAttempts 0',
    args: () => ['failover', badRetries(), '--reason', 'INC-1', '--yes'],
    code: 2,
    says: [/steps\[\d\]\.retry\.maximumAttempts: must be at least 1 \(got number 0\)/],
  },
  {
    name: 'failover without --yes and without a terminal to confirm on',
    args: () => ['failover', 'ehr-db', '--reason', 'INC-1'],
    code: 4,
    says: [/not starting: no terminal to confirm on/, /--yes/],
  },
  {
    name: 'drill run with a bad --canary-interval',
    args: () => ['drill', 'run', 'ehr-db', '--reason', 'drill', '--canary-interval', 'fast'],
    code: 2,
    says: [/--canary-interval must be a duration such as 100ms, 2s or 1m, not "fast"/],
  },
  {
    name: 'drill run with --action nonsense',
    args: () => ['drill', 'run', 'ehr-db', '--reason', 'drill', '--action', 'nonsense'],
    code: 2,
    says: [/'nonsense' is invalid/, /fence-primary, stop-primary/],
  },
];

test.each(cases)('$name is refused and changes nothing', async ({ args, code, says }) => {
  const before = await runsStarted('ehr-db');
  const result = await drctl(args(), env);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: expect.any(String) });
  for (const text of says) expect(result.stderr).toMatch(text);
  expect(`${result.stdout}${result.stderr}`).not.toMatch(STACK_TRACE);

  expect(await estate()).toEqual(seeded());
  expect(await runsStarted('ehr-db')).toEqual(before);
});

test('the same refusals as JSON for scripts', async () => {
  const before = await runsStarted('ehr-db');
  const result = await drctl(
    ['failover', dnsBeforePromotion(), '--reason', 'INC-1', '--yes', '-o', 'json'],
    env,
  );
  expect(result.code).toBe(2);
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout).error).toMatchObject({
    code: 'RunbookInvalid',
    details: { issues: [{ path: expect.stringMatching(/^steps\[\d\]\.records\[0\]\.pointTo$/) }] },
  });
  expect(await estate()).toEqual(seeded());
  expect(await runsStarted('ehr-db')).toEqual(before);
});
