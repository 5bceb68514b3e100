import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
} from '@aws-sdk/client-rds';
import { Client } from 'pg';
import type { DatabaseInput } from '../../activities/contracts';
import { startFaultProxy } from '../../sandbox/fault-proxy';
import { killPostgresPrimary, resetStack } from '../../sandbox/stack';
import { realDatabaseFixture } from './database-fixture';
import { getStack } from './stack';

const stack = getStack();
const { activities, ehr, portal, rdsClient, close } = realDatabaseFixture(stack);

/** Runs `sql` in a fresh session of `url`; returns rows, or the SQLSTATE when the server refuses it. */
async function query(
  url: string,
  sql: string,
): Promise<{ rows: Array<Record<string, unknown>>; refused?: string }> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return { rows: (await client.query(sql)).rows };
  } catch (error) {
    return { rows: [], refused: (error as { code?: string }).code };
  } finally {
    await client.end();
  }
}

afterAll(close);

describe('database activities on the sandbox PostgreSQL pair', () => {
  afterEach(async () => {
    await resetStack({ only: ['postgres'] });
  });

  it('GIVEN the healthy streaming pair WHEN checking THEN every check passes with measured lag', async () => {
    const results = await activities.checkDatabase(ehr);

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.check)).toEqual([
      'database ehr: replica reachable',
      'database ehr: replica is a standby',
      'database ehr: primary',
      'database ehr: application roles',
      'database ehr: WAL receiver streaming',
      'database ehr: replication lag',
    ]);
  });

  it("GIVEN a session open on the primary WHEN fencing THEN that session is ended, the application role cannot log in, a new write of drctl's own role is refused, and a second fence changes nothing", async () => {
    const open = new Client({ connectionString: stack.postgres.appUrl });
    open.on('error', () => undefined);
    await open.connect();

    const first = await activities.fenceDatabase(ehr);
    const second = await activities.fenceDatabase(ehr);

    expect(first).toMatchObject({ changed: true, facts: { primaryReachable: true } });
    expect(Number(first.facts.terminatedSessions)).toBeGreaterThanOrEqual(1);
    expect(second.changed).toBe(false);
    await expect(open.query('select 1')).rejects.toThrow();
    await open.end().catch(() => undefined);
    await expect(query(stack.postgres.appUrl, 'select 1')).rejects.toMatchObject({ code: '28000' });
    expect(
      (await query(stack.postgres.primaryUrl, "insert into drctl_probe (run_id) values ('after-fence')"))
        .refused,
    ).toBe('25006');
  });

  it('GIVEN the standby WHEN promoting twice THEN it leaves recovery, takes an insert, and the second run changes nothing', async () => {
    const first = await activities.promoteDatabase(ehr);
    const second = await activities.promoteDatabase(ehr);

    expect(first).toMatchObject({ changed: true, writableEndpoint: stack.postgres.replicaHost });
    expect(second).toMatchObject({ changed: false, writableEndpoint: stack.postgres.replicaHost });
    expect((await query(stack.postgres.replicaUrl, 'select pg_is_in_recovery() as r')).rows[0]).toEqual({
      r: false,
    });
    const inserted = await query(
      stack.postgres.replicaUrl,
      "insert into drctl_probe (run_id) values ('after-promote') returning id",
    );
    expect(inserted.refused).toBeUndefined();
    expect(inserted.rows).toHaveLength(1);
  });

  it('GIVEN the primary crashed WHEN checking, fencing and promoting THEN the check passes on replica figures, the fence treats it as down, and the replica is promoted', async () => {
    await killPostgresPrimary();

    const checks = await activities.checkDatabase(ehr);
    const fence = await activities.fenceDatabase(ehr);
    const promote = await activities.promoteDatabase(ehr);

    expect(checks.filter((r) => !r.ok)).toEqual([]);
    expect(checks.find((r) => r.check === 'database ehr: primary')?.message).toMatch(
      /unreachable, treated as down: cannot reach/,
    );
    expect(fence).toMatchObject({ changed: false, facts: { primaryReachable: false } });
    expect(promote.changed).toBe(true);
  });
});

describe('database activities on moto RDS', () => {
  afterAll(async () => {
    await resetStack({ only: ['aws'] });
  });

  it('GIVEN the seeded read replica WHEN checking and promoting twice THEN it is promoted once, DescribeDBInstances shows it standalone and the step records its former source', async () => {
    const checks = await activities.checkDatabase(portal);
    const first = await activities.promoteDatabase(portal);
    const second = await activities.promoteDatabase(portal);

    expect(checks.filter((r) => !r.ok)).toEqual([]);
    expect(first.changed).toBe(true);
    expect(first.writableEndpoint).toMatch(/^patient-portal-replica\./);
    expect(second.changed).toBe(false);
    const { region, instanceId } = stack.aws.rds.replica;
    const raw = (
      await rdsClient(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }))
    ).DBInstances?.[0];
    // As in AWS (the strict layer shows it so; moto alone keeps the link), a promoted instance reports no
    // ReadReplicaSourceDBInstanceIdentifier; the step's facts record the former source. drctl adds no tag of its
    // own to a promoted instance (one call fewer per database at RDS's 12 calls/s).
    expect(raw?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
    expect((raw?.TagList ?? []).filter((tag) => tag.Key?.startsWith('drctl:'))).toEqual([]);
    expect(first.facts.promotedFrom).toMatch(new RegExp(`:db:${stack.aws.rds.primary.instanceId}$`));
  });

  it('GIVEN the primary instance WHEN fencing twice THEN the fence security group is swapped in once', async () => {
    const first = await activities.fenceDatabase(portal);
    const second = await activities.fenceDatabase(portal);

    expect(first).toMatchObject({
      changed: true,
      facts: { fenceSecurityGroup: stack.aws.rds.fenceSecurityGroup.id },
    });
    expect(second.changed).toBe(false);
  });

  it('GIVEN an Aurora cluster with a writer and a reader WHEN failing over twice THEN the reader becomes writer once', async () => {
    const client = rdsClient('us-east-1');
    await client.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'drctl-it-aurora',
        Engine: 'aurora-postgresql',
        MasterUsername: 'drctl',
        MasterUserPassword: 'password123',
      }),
    );
    for (const id of ['drctl-it-aurora-1', 'drctl-it-aurora-2']) {
      await client.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          DBClusterIdentifier: 'drctl-it-aurora',
          DBInstanceClass: 'db.r6g.large',
          Engine: 'aurora-postgresql',
        }),
      );
    }
    const aurora: DatabaseInput = {
      name: 'aurora',
      target: {
        provider: 'aurora-cluster',
        clusterId: 'drctl-it-aurora',
        region: 'us-east-1',
        targetInstanceId: 'drctl-it-aurora-2',
        maxLag: '30s',
        acceptUnknownLag: true,
      },
      // No AuroraReplicaLag series is published for this cluster: unknown lag goes on only with an approval.
      approvals: { unknownLag: 'integration-test' },
    };

    const checks = await activities.checkDatabase(aurora);
    const first = await activities.promoteDatabase(aurora);
    const second = await activities.promoteDatabase(aurora);

    expect(checks.filter((r) => !r.ok)).toEqual([]);
    expect(first.changed).toBe(true);
    expect(first.writableEndpoint).toMatch(/^drctl-it-aurora\.cluster-/);
    expect(second.changed).toBe(false);
  });
});

describe('a promotion whose answer is lost after RDS promoted the replica', () => {
  beforeAll(async () => {
    await resetStack({ only: ['aws'] });
  });

  afterAll(async () => {
    await resetStack({ only: ['aws'] });
  });

  it('GIVEN the SDK sends PromoteReadReplica again (refused: no longer a replica) THEN the step fails retryably, and its retry finds the replica promoted', async () => {
    // Mapped to a permanent InvalidState, the step failed although the promotion had happened.
    const proxy = await startFaultProxy({
      target: stack.moto.endpoint,
      faultRate: 0,
      faults: [],
      forced: [{ match: (req) => req.operation === 'PromoteReadReplica', kind: 'answer-lost', times: 1 }],
    });
    const viaProxy = realDatabaseFixture({ ...stack, moto: { ...stack.moto, endpoint: proxy.url } });
    try {
      const failed = await viaProxy.activities.promoteDatabase(viaProxy.portal).catch((e: unknown) => e);
      const retried = await viaProxy.activities.promoteDatabase(viaProxy.portal);

      expect(failed).toMatchObject({ type: 'OutcomeUnknown', nonRetryable: false });
      expect(proxy.stats().operations.PromoteReadReplica).toMatchObject({ forwarded: 2 });
      expect(retried.changed).toBe(false);
      const { region, instanceId } = stack.aws.rds.replica;
      const raw = (
        await rdsClient(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }))
      ).DBInstances?.[0];
      expect(raw?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
    } finally {
      viaProxy.close();
      await proxy.close();
    }
  });
});
