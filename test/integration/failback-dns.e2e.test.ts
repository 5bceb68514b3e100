import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverResult } from '../../workflows/run-types';
import { catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordSet } from './estate-readers';
import { pointRecordAt } from './estate-writers';

/**
 * `drctl failback` of a runbook whose DNS step sets literal values, through the real CLI and worker on the local
 * stack: each record goes back to what the failover read before switching it (every value, its TTL), not to the
 * value the failover set.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

const RUNBOOK = 'web-front-dns';

/** A runbook reviewed into the env's catalog, where the CLI and the worker find it. */
function reviewRunbook(id: string, title: string, steps: unknown[]): void {
  const runbook = { id, title, owner: 'tests', objectives: { rto: '5m', rpo: '1m' }, targets: {}, steps };
  writeFileSync(join(catalogDir(env), `${id}.json`), JSON.stringify(runbook));
}

beforeAll(async () => {
  stack = await resetStack({ only: ['aws'] });
  env = drctlEnv(stack, `failback-dns-${randomUUID()}`);
  env.DRCTL_RUNBOOKS_DIR = catalogDir(env);
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack({ only: ['aws'] });
});

test('GIVEN an A record of two addresses and a CNAME, switched by a failover to literal values WHEN failing back THEN both hold what they held before the failover, every value and TTL (before: the failover’s values again)', async () => {
  const zone = stack.aws.route53.zoneName;
  const addresses = `web-a.${zone}`;
  const alias = `web-www.${zone}`;
  await pointRecordAt(stack, addresses, ['10.10.0.1', '10.10.0.2'], 120);
  await pointRecordAt(stack, alias, 'web-primary.example.internal.', 300, 'CNAME');
  reviewRunbook(RUNBOOK, 'Move the web front to the standby region', [
    {
      id: 'switch-dns',
      kind: 'dns.switch',
      zone: { name: zone },
      records: [
        { name: addresses, type: 'A', ttl: 30, value: '10.20.0.9' },
        { name: alias, type: 'CNAME', ttl: 30, value: 'web-standby.example.internal.' },
      ],
    },
  ]);

  const failover = await drctl(
    ['failover', RUNBOOK, '--reason', 'INC-5120 region drill', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(failover.stderr).toBe('');
  expect(failover.code).toBe(0);
  expect(await recordSet(stack, addresses)).toEqual({ ttl: 30, values: ['10.20.0.9'] });
  expect(await recordSet(stack, alias)).toEqual({ ttl: 30, values: ['web-standby.example.internal.'] });

  const back = await drctl(
    ['failback', RUNBOOK, '--reason', 'region healthy again', '--yes', '--follow', '--output', 'json'],
    env,
  );

  expect(back.stderr).toBe('');
  expect(back.code).toBe(0);
  expect((JSON.parse(back.stdout) as FailoverResult).runbookId).toBe(`${RUNBOOK}-failback`);
  expect(await recordSet(stack, addresses)).toEqual({ ttl: 120, values: ['10.10.0.1', '10.10.0.2'] });
  expect(await recordSet(stack, alias)).toEqual({ ttl: 300, values: ['web-primary.example.internal.'] });
});

test('GIVEN a DNS step that sets a record to several values, then waits for an approval WHEN aborted THEN the rollback puts the record back (before: it read as moved by another writer, and was left)', async () => {
  const zone = stack.aws.route53.zoneName;
  const pool = `web-pool.${zone}`;
  const id = 'web-pool-dns';
  await pointRecordAt(stack, pool, '10.10.0.5', 60);
  reviewRunbook(id, 'Spread the web pool over the standby region', [
    {
      id: 'switch-dns',
      kind: 'dns.switch',
      zone: { name: zone },
      records: [{ name: pool, type: 'A', ttl: 30, values: ['10.20.0.5', '10.20.0.6'] }],
    },
    { id: 'hold', kind: 'approval' },
  ]);
  const workflowId = `failover-${id}`;
  const started = await drctl(['failover', id, '--reason', 'INC-5121 pool move', '--yes'], env);
  expect(started.stderr).toBe('');
  for (;;) {
    const status = JSON.parse((await drctl(['status', workflowId, '--output', 'json'], env)).stdout) as {
      status: string;
      awaiting?: Array<{ stepId: string }>;
    };
    if (status.awaiting?.some((waiting) => waiting.stepId === 'hold')) break;
    expect(status.status).toMatch(/running|paused/);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  expect(await recordSet(stack, pool)).toEqual({ ttl: 30, values: ['10.20.0.5', '10.20.0.6'] });

  expect((await drctl(['abort', workflowId, '--reason', 'wrong pool'], env)).code).toBe(0);
  const ended = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);

  const result = JSON.parse(ended.stdout) as FailoverResult;
  expect(result.status).toBe('aborted');
  expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['switch-dns:undone']);
  expect(await recordSet(stack, pool)).toEqual({ ttl: 60, values: ['10.10.0.5'] });
});
