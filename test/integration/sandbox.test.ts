import { Connection } from '@temporalio/client';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { getStack } from './stack';
import { sql as query } from './estate-readers';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

/** What a real Unleash client (backend token, in-memory storage) sees for the seeded flags. */
async function flagsSeenByClient(stack: StackInfo): Promise<Record<string, boolean>> {
  const unleash = new Unleash({
    appName: 'drctl-sandbox-test',
    url: `${stack.unleash.url}/api/`,
    customHeaders: { Authorization: stack.unleash.clientToken },
    environment: stack.unleash.environment,
    refreshInterval: 60_000,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
  });
  try {
    await new Promise<void>((resolvePromise, reject) => {
      unleash.once('synchronized', () => resolvePromise());
      unleash.once('error', reject);
    });
    return Object.fromEntries(
      stack.unleash.flags.map((flag) => [flag, unleash.isEnabled(flag, { userId: 'sandbox-test' })]),
    );
  } finally {
    unleash.destroy();
  }
}

describe('sandbox stack', () => {
  let stack: StackInfo;

  beforeAll(async () => {
    // GIVEN the seeded topology: other suites share this stack and drill on it (promote, kill, flip flags).
    stack = await resetStack({ only: ['postgres', 'unleash'] });
  });

  it('streams a row inserted on the primary to the replica', async () => {
    // GIVEN a marker only this test run writes
    const runId = `sandbox-test-${randomUUID()}`;
    // WHEN it is inserted on the primary
    await query(stack.postgres.primaryUrl, 'insert into drctl_probe (run_id) values ($1)', [runId]);
    // THEN the replica serves it shortly after
    const rows = await eventually(
      () =>
        query<{ run_id: string }>(
          stack.postgres.replicaUrl,
          'select run_id from drctl_probe where run_id = $1',
          [runId],
        ),
      (found) => found.length === 1,
    );
    expect(rows).toEqual([{ run_id: runId }]);
  });

  it('has the replica in recovery and the primary listing it as streaming', async () => {
    const [replica] = await query<{ recovery: boolean }>(
      stack.postgres.replicaUrl,
      'select pg_is_in_recovery() as recovery',
    );
    expect(replica?.recovery).toBe(true);
    const [primary] = await query<{ recovery: boolean }>(
      stack.postgres.primaryUrl,
      'select pg_is_in_recovery() as recovery',
    );
    expect(primary?.recovery).toBe(false);
    const senders = await query<{ state: string }>(
      stack.postgres.primaryUrl,
      'select state from pg_stat_replication',
    );
    expect(senders.map((sender) => sender.state)).toContain('streaming');
  });

  it('lets the application role write on the primary', async () => {
    const rows = await query<{ id: string }>(
      stack.postgres.appUrl,
      `insert into drctl_probe (run_id) values ('app-role-check') returning id`,
    );
    expect(rows).toHaveLength(1);
    const patients = await query<{ mrn: string }>(
      stack.postgres.appUrl,
      'select mrn from patients order by mrn',
    );
    expect(patients.length).toBeGreaterThanOrEqual(3);
    expect(patients.every((patient) => patient.mrn.startsWith('FAKE-'))).toBe(true);
  });

  it('answers the seeded Route 53 A record from moto', async () => {
    const route53 = new Route53Client({
      endpoint: stack.moto.endpoint,
      region: stack.aws.region,
      credentials,
    });
    try {
      const result = await route53.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: stack.aws.route53.zoneId }),
      );
      const ehrDb = result.ResourceRecordSets?.find(
        (set) => set.Name === `ehr-db.${stack.aws.route53.zoneName}` && set.Type === 'A',
      );
      expect(ehrDb?.ResourceRecords?.map((record) => record.Value)).toEqual(['127.0.0.2']);
      expect(ehrDb?.TTL).toBe(30);
    } finally {
      route53.destroy();
    }
  });

  it('keeps the newest backup under COMPLIANCE object lock', async () => {
    const s3 = new S3Client({
      endpoint: stack.moto.endpoint,
      region: stack.aws.s3.region,
      credentials,
      forcePathStyle: true,
    });
    try {
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: stack.aws.s3.bucket, Prefix: stack.aws.s3.prefix }),
      );
      const newest = [...(listed.Contents ?? [])].sort(
        (a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0),
      )[0];
      expect(newest?.Key).toMatch(/^ehr-db\/.+-base\.tar\.gz$/);
      const head = await s3.send(new HeadObjectCommand({ Bucket: stack.aws.s3.bucket, Key: newest?.Key }));
      expect(head.ObjectLockMode).toBe('COMPLIANCE');
      expect(head.ObjectLockRetainUntilDate?.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);
      expect(Date.now() - (newest?.LastModified?.getTime() ?? 0)).toBeLessThan(2 * 3600 * 1000);
    } finally {
      s3.destroy();
    }
  });

  it('lists the three seeded flags in Unleash, off for every client', async () => {
    const response = await fetch(
      `${stack.unleash.url}/api/admin/projects/${stack.unleash.project}/features`,
      {
        headers: { Authorization: stack.unleash.adminToken },
      },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      features: Array<{ name: string; environments?: Array<{ name: string; enabled: boolean }> }>;
    };
    const seeded = body.features.filter((feature) => stack.unleash.flags.includes(feature.name));
    expect(seeded.map((feature) => feature.name).sort()).toEqual([...stack.unleash.flags].sort());
    for (const feature of seeded) {
      expect(
        feature.environments?.find((environment) => environment.name === stack.unleash.environment)?.enabled,
      ).toBe(false);
    }
    const allOff = Object.fromEntries(stack.unleash.flags.map((flag) => [flag, false]));
    // Unleash refreshes what it serves to clients about once a second after a change.
    expect(
      await eventually(
        () => flagsSeenByClient(stack),
        (seen) => JSON.stringify(seen) === JSON.stringify(allOff),
      ),
    ).toEqual(allOff);
  });

  it('answers describeNamespace on Temporal', async () => {
    const connection = await Connection.connect({ address: stack.temporal.address });
    try {
      const response = await connection.workflowService.describeNamespace({
        namespace: stack.temporal.namespace,
      });
      expect(response.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  });
});

describe('resetStack', () => {
  it('turns a promoted replica back into a streaming standby of the original primary', async () => {
    const stack = getStack();
    // GIVEN the replica was promoted, as a failover drill does
    await query(stack.postgres.replicaUrl, 'select pg_promote(true, 60)');
    const [promoted] = await query<{ recovery: boolean }>(
      stack.postgres.replicaUrl,
      'select pg_is_in_recovery() as recovery',
    );
    expect(promoted?.recovery).toBe(false);
    // WHEN only PostgreSQL is reset
    const started = Date.now();
    const after = await resetStack({ only: ['postgres'] });
    // THEN it took seconds, and the replica is in recovery again and streaming from 127.0.0.2
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(after.postgres.primaryHost).toBe('127.0.0.2');
    const [replica] = await query<{ recovery: boolean }>(
      after.postgres.replicaUrl,
      'select pg_is_in_recovery() as recovery',
    );
    expect(replica?.recovery).toBe(true);
    const senders = await query<{ state: string }>(
      after.postgres.primaryUrl,
      'select state from pg_stat_replication',
    );
    expect(senders.map((sender) => sender.state)).toContain('streaming');
  });

  it('brings a read-only, crashed primary back read-write', async () => {
    const stack = getStack();
    // GIVEN the primary was fenced read-only with ALTER SYSTEM and then crashed
    await query(stack.postgres.primaryUrl, 'alter system set default_transaction_read_only = on');
    await query(stack.postgres.primaryUrl, 'select pg_reload_conf()');
    const { killPostgresPrimary } = await import('../../sandbox/stack');
    await killPostgresPrimary();
    // WHEN PostgreSQL is reset
    const after = await resetStack({ only: ['postgres'] });
    // THEN the original primary accepts writes again
    const rows = await query<{ id: string }>(
      after.postgres.primaryUrl,
      `insert into drctl_probe (run_id) values ('after-reset') returning id`,
    );
    expect(rows).toHaveLength(1);
  });

  it('turns a flag a drill switched on back off', async () => {
    const stack = getStack();
    const flag = stack.unleash.flags[0] ?? 'ehr-degraded-mode';
    const path = `/api/admin/projects/${stack.unleash.project}/features/${flag}/environments/${stack.unleash.environment}`;
    // GIVEN a drill turned a flag on, and clients see it on (ON means on for everyone)
    const on = await fetch(`${stack.unleash.url}${path}/on`, {
      method: 'POST',
      headers: { Authorization: stack.unleash.adminToken },
    });
    expect(on.status).toBeLessThan(300);
    expect(
      await eventually(
        async () => (await flagsSeenByClient(stack))[flag],
        (enabled) => enabled === true,
      ),
    ).toBe(true);
    // WHEN Unleash is reset
    await resetStack({ only: ['unleash'] });
    // THEN clients see it off again
    expect(
      await eventually(
        async () => (await flagsSeenByClient(stack))[flag],
        (enabled) => enabled === false,
      ),
    ).toBe(false);
  });
});
