import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Client } from 'pg';
import type { DatabaseInput } from '../activities/contracts';
import { createLagMetricsAdapter } from '../activities/database/lag-metrics-adapter';
import { createPostgresAdapter } from '../activities/database/postgres-adapter';
import { createRdsAdapter } from '../activities/database/rds-adapter';
import { createFenceActivities } from '../kinds/database-fence/activities';
import { createPromoteActivities } from '../kinds/database-promote/activities';
import { createSandboxAwsClients, MOTO_CREDENTIALS } from '../sandbox/aws-clients';
import { ensureStackUp, resetStack } from '../sandbox/stack';
import type { StackInfo } from '../sandbox/stack-info';

/**
 * Planned failover of the sandbox's PostgreSQL pair under continuous writes: does it lose an acknowledged row?
 * Each run: the application role inserts rows as fast as it can (a row is acknowledged when its INSERT … RETURNING
 * returns); the replica's WAL receiver is cut, so the replica falls behind for real, and reconnected 1 s into the
 * promotion; the planned fence and promotion run (the real activities); the writer stops when the promotion
 * returns. Then every acknowledged id is looked up on the new primary. Prints one line per run and a total.
 * Usage: npm run bench:planned-writes [-- <runs>] (default 10).
 */
const runs = Number(process.argv[2] ?? 10);

interface RunFigures {
  acknowledged: number;
  onNewPrimary: number;
  lost: number;
  refused: number;
  caughtUpAfterMs: unknown;
  fenceToPromotedMs: number;
}

/** Inserts rows as the application role until `stop`; reconnects after an error (the fence ends its session). */
function startWriter(appUrl: string, runId: string) {
  const acknowledged: number[] = [];
  let refused = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const client = new Client({ connectionString: appUrl });
      // The fence terminates this session; the error then also arrives as an event, which must not crash the bench.
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!stopped) {
          const { rows } = await client.query<{ id: string }>(
            'insert into drctl_probe (run_id) values ($1) returning id',
            [runId],
          );
          acknowledged.push(Number(rows[0]!.id));
        }
      } catch {
        refused += 1;
        await sleep(20);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  })();
  return {
    acknowledged,
    refusedCount: () => refused,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

async function query<T extends object>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Stops the replica's WAL receiver; returns the function that reconnects it. */
async function cutWalReceiver(stack: StackInfo): Promise<() => Promise<void>> {
  const [row] = await query<{ setting: string }>(
    stack.postgres.replicaUrl,
    "select setting from pg_settings where name = 'primary_conninfo'",
  );
  const original = row!.setting;
  await query(stack.postgres.replicaUrl, "alter system set primary_conninfo = ''");
  await query(stack.postgres.replicaUrl, 'select pg_reload_conf()');
  return async () => {
    await query(
      stack.postgres.replicaUrl,
      `alter system set primary_conninfo = '${original.replace(/'/g, "''")}'`,
    );
    await query(stack.postgres.replicaUrl, 'select pg_reload_conf()');
  };
}

async function oneRun(stack: StackInfo, index: number): Promise<RunFigures> {
  const aws = createSandboxAwsClients(stack.moto.endpoint);
  const ports = {
    postgres: createPostgresAdapter({
      connections: { 'ehr-primary': stack.postgres.primaryUrl, 'ehr-replica': stack.postgres.replicaUrl },
    }),
    rds: createRdsAdapter(aws.rds, aws.ec2),
    lagMetrics: createLagMetricsAdapter(
      (region) =>
        new CloudWatchClient({ region, endpoint: stack.moto.endpoint, credentials: MOTO_CREDENTIALS }),
    ),
    poll: { initialIntervalMs: 50, maxIntervalMs: 250 },
  };
  const activities = { ...createFenceActivities(ports), ...createPromoteActivities(ports) };
  const input: DatabaseInput = {
    name: 'ehr',
    mode: 'planned',
    target: {
      provider: 'postgres',
      primary: { connection: 'ehr-primary', endpoint: stack.postgres.primaryHost },
      replica: { connection: 'ehr-replica', endpoint: stack.postgres.replicaHost },
      applicationRoles: ['ehr_app'],
      maxLag: '60s',
    },
  };
  const runId = `bench-planned-${index}`;
  const writer = startWriter(stack.postgres.appUrl, runId);
  await sleep(500);
  const reconnect = await cutWalReceiver(stack);
  await sleep(1000);
  const fenceStarted = performance.now();
  await activities.fenceDatabase(input);
  const reconnected = sleep(1000).then(reconnect);
  const promoted = await activities.promoteDatabase(input);
  const fenceToPromotedMs = performance.now() - fenceStarted;
  await reconnected;
  await writer.stop();
  const present = await query<{ id: string }>(
    stack.postgres.replicaUrl,
    'select id from drctl_probe where id = any($1::bigint[])',
    [writer.acknowledged],
  );
  return {
    acknowledged: writer.acknowledged.length,
    onNewPrimary: present.length,
    lost: writer.acknowledged.length - present.length,
    refused: writer.refusedCount(),
    caughtUpAfterMs: promoted.facts.caughtUpAfterMs,
    fenceToPromotedMs,
  };
}

async function main(): Promise<void> {
  let stack = await ensureStackUp();
  const all: RunFigures[] = [];
  for (let i = 1; i <= runs; i++) {
    stack = await resetStack({ only: ['postgres'] });
    const figures = await oneRun(stack, i);
    all.push(figures);
    console.log(
      `run ${String(i).padStart(2)}: acknowledged ${figures.acknowledged}, on the new primary ${figures.onNewPrimary}, lost ${figures.lost}; writes refused after the fence ${figures.refused}; replica caught up after ${String(figures.caughtUpAfterMs)} ms; fence → promoted ${figures.fenceToPromotedMs.toFixed(0)} ms`,
    );
  }
  await resetStack({ only: ['postgres'] });
  const clean = all.filter((f) => f.lost === 0).length;
  const acknowledged = all.reduce((sum, f) => sum + f.acknowledged, 0);
  const lost = all.reduce((sum, f) => sum + f.lost, 0);
  console.log(
    `planned failover under continuous writes: ${clean} of ${runs} runs lost 0 acknowledged rows (${acknowledged} acknowledged in all, ${lost} lost)`,
  );
  if (clean !== runs) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
