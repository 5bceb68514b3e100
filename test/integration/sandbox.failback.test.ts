import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseInput } from '../../activities/contracts';
import { createDatabaseActivities } from '../fakes/database-activities';
import { createPostgresAdapter } from '../../activities/database/postgres-adapter';
import { FakeRds } from '../fakes/fake-rds';
import { rebuildPrimaryAsReplica, resetStack } from '../../sandbox/stack';
import { getStack } from './stack';
import { sql as query } from './estate-readers';

const stack = getStack();
const { primaryUrl, replicaUrl } = stack.postgres;

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if ((value !== undefined && accept(value)) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

const inRecovery = async (url: string) =>
  (await query<{ r: boolean }>(url, 'select pg_is_in_recovery() as r'))[0]?.r;
const streamingStandbys = (url: string) =>
  query<{ application_name: string; state: string }>(
    url,
    'select application_name, state from pg_stat_replication',
  );

/** Failback direction: 127.0.0.3 (the promoted replica) is the primary, 127.0.0.2 (rebuilt) the standby. */
const failback: DatabaseInput = {
  name: 'ehr',
  target: {
    provider: 'postgres',
    primary: { connection: 'ehr-replica', endpoint: stack.postgres.replicaHost },
    replica: { connection: 'ehr-primary', endpoint: stack.postgres.primaryHost },
    applicationRoles: ['ehr_app'],
    maxLag: '30s',
  },
};
const activities = createDatabaseActivities({
  postgres: createPostgresAdapter({ connections: { 'ehr-primary': primaryUrl, 'ehr-replica': replicaUrl } }),
  rds: new FakeRds(),
  poll: { initialIntervalMs: 100, maxIntervalMs: 1000 },
});

beforeAll(() => resetStack({ only: ['postgres'] }));
afterAll(() => resetStack({ only: ['postgres'] }));

describe('sandbox failback support', () => {
  it('GIVEN no failover happened WHEN rebuilding the old primary THEN it refuses and changes nothing', async () => {
    await expect(rebuildPrimaryAsReplica()).rejects.toMatchObject({ code: 'InvalidState' });
    expect(await inRecovery(primaryUrl)).toBe(false);
  });

  it('GIVEN a failover promoted 127.0.0.3 WHEN rebuilding the old primary THEN 127.0.0.2 streams from 127.0.0.3, a failback works, and reset restores the seeded pair', async () => {
    await query(primaryUrl, 'alter system set default_transaction_read_only = on');
    await query(primaryUrl, 'select pg_reload_conf()');
    await query(replicaUrl, 'select pg_promote()');
    expect(
      await eventually(
        () => inRecovery(replicaUrl),
        (r) => r === false,
      ),
    ).toBe(false);

    await rebuildPrimaryAsReplica();

    expect(await inRecovery(primaryUrl)).toBe(true);
    const receiver = await query<{ status: string; sender_host: string }>(
      primaryUrl,
      'select status, sender_host from pg_stat_wal_receiver',
    );
    expect(receiver).toEqual([{ status: 'streaming', sender_host: stack.postgres.replicaHost }]);
    expect(await streamingStandbys(replicaUrl)).toContainEqual({
      application_name: 'pg-primary',
      state: 'streaming',
    });
    const runId = `failback-${randomUUID()}`;
    await query(replicaUrl, 'insert into drctl_probe (run_id) values ($1)', [runId]);
    const seen = await eventually(
      () =>
        query<{ n: number }>(primaryUrl, 'select count(*)::int as n from drctl_probe where run_id = $1', [
          runId,
        ]),
      (rows) => rows[0]?.n === 1,
    );
    expect(seen).toEqual([{ n: 1 }]);

    // The failback with the usual activities: checks pass, 127.0.0.3 is fenced, 127.0.0.2 promoted.
    const checks = await activities.checkDatabase(failback);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await activities.fenceDatabase(failback)).toMatchObject({ changed: true });
    expect(await activities.promoteDatabase(failback)).toMatchObject({
      changed: true,
      writableEndpoint: stack.postgres.primaryHost,
    });
    expect(await inRecovery(primaryUrl)).toBe(false);

    await resetStack({ only: ['postgres'] });

    expect(await inRecovery(primaryUrl)).toBe(false);
    expect(await inRecovery(replicaUrl)).toBe(true);
    expect(
      (
        await query<{ v: string }>(primaryUrl, `select current_setting('default_transaction_read_only') as v`)
      )[0],
    ).toEqual({ v: 'off' });
    expect(await streamingStandbys(primaryUrl)).toContainEqual({
      application_name: 'pg-replica',
      state: 'streaming',
    });
    const sender = await query<{ sender_host: string }>(
      replicaUrl,
      'select sender_host from pg_stat_wal_receiver',
    );
    expect(sender).toEqual([{ sender_host: stack.postgres.primaryHost }]);
  });
});
