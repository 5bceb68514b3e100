import {
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  ListHostedZonesByNameCommand,
} from '@aws-sdk/client-route-53';
import { CreateDBInstanceCommand, DeleteDBInstanceCommand } from '@aws-sdk/client-rds';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDnsActivities } from '../../kinds/dns-switch/activities';
import { createSandboxAwsClients } from '../../sandbox/aws-clients';
import { upsertRecords } from '../../sandbox/route53-seed';
import { strictAwsControl } from '../../sandbox/strict-aws-client';
import { loadConfig } from '../../worker/config';
import { createProviderPorts } from '../../worker/provider-ports';
import { getStack } from './stack';

/**
 * The worker's real AWS ports (paced, the SDK's standard retries) against the strict AWS layer with AWS's limits on:
 * Route 53 burst 50, 10/s with 300 ms PENDING propagation and batch limits; RDS burst 300, 12/s; CloudWatch
 * GetMetricData 50/s. Records, instances and lag series are this test's own (seeded behind the layer, straight
 * into moto, or through the layer's control API).
 */
describe('fleet scale: paced calls against the strict AWS layer', () => {
  const stack = getStack();
  const aws = strictAwsControl(stack.moto.controlUrl);
  const zoneName = `fleet-it-${process.pid}.drctl.internal.`;
  const records = Array.from({ length: 1200 }, (_, i) => `svc-${String(i).padStart(4, '0')}.${zoneName}`);
  const raw = createSandboxAwsClients(stack.moto.rawEndpoint);
  let zoneId = '';
  let ports: ReturnType<typeof createProviderPorts>;

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'testing';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
    ports = createProviderPorts(loadConfig({ file: stack.configFile }));
    const zone = await raw.route53.send(
      new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `fleet-it-${Date.now()}` }),
    );
    zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    await upsertRecords(raw.route53, zoneId, records, { type: 'A', value: '10.1.0.1' });
  });

  beforeEach(async () => {
    await aws.reset();
    await aws.throttling({ enabled: true });
  });

  afterAll(async () => {
    await aws.reset();
    ports.close();
    await raw.route53.send(new DeleteHostedZoneCommand({ Id: zoneId })).catch(() => undefined);
    raw.route53.destroy();
  });

  it('GIVEN 20 pre-flight checks and a switch of 1,200 records at once WHEN paced THEN nothing is throttled, 3 batches are applied once each, every record moves', async () => {
    const activities = createDnsActivities({ route53: ports.ports.route53 });
    const check = {
      zone: { name: zoneName },
      records: records.map((name) => ({ name, type: 'A' as const })),
    };

    const [outcome, ...checks] = await Promise.all([
      activities.switchDns({
        zone: { name: zoneName },
        records: records.map((name) => ({ name, type: 'A' as const, ttl: 60, value: '10.1.0.2' })),
        checkResolution: true,
      }),
      ...Array.from({ length: 20 }, () => activities.checkDnsRecords(check)),
    ]);

    const stats = await aws.stats();
    expect(stats.totals.throttled).toBe(0);
    expect(stats.operations.ChangeResourceRecordSets?.refused ?? {}).toEqual({});
    expect(stats.effects.ChangeResourceRecordSets).toBe(3);
    expect(outcome.facts).toMatchObject({ records: 1200, recordsChanged: 1200, changeBatches: 3 });
    expect(checks.every((results) => results.every((r) => r.ok))).toBe(true);
    const after = await createDnsActivities({ route53: ports.ports.route53 }).planDnsSwitch({
      zone: { name: zoneName },
      records: records.map((name) => ({ name, type: 'A' as const, ttl: 60, value: '10.1.0.2' })),
      checkResolution: false,
    });
    expect(after).toEqual([
      expect.objectContaining({ current: '1200 already at their desired values', willChange: false }),
    ]);
  });

  it('GIVEN another client drains the account bucket WHEN the paced worker switches THEN it is throttled and still succeeds', async () => {
    await upsertRecords(raw.route53, zoneId, records.slice(0, 100), { type: 'A', value: '10.1.0.3' });
    const hog = createSandboxAwsClients(stack.moto.endpoint).route53;
    await Promise.all(
      Array.from({ length: 60 }, () =>
        hog.send(new ListHostedZonesByNameCommand({ DNSName: zoneName })).catch(() => undefined),
      ),
    );
    hog.destroy();
    const activities = createDnsActivities({ route53: ports.ports.route53 });

    const outcome = await activities.switchDns({
      zone: { name: zoneName },
      records: records
        .slice(0, 100)
        .map((name) => ({ name, type: 'A' as const, ttl: 60, value: '10.1.0.4' })),
      checkResolution: false,
    });

    const stats = await aws.stats();
    expect(stats.totals.throttled).toBeGreaterThan(0);
    expect(outcome.facts).toMatchObject({ recordsChanged: 100 });
    expect(stats.effects.ChangeResourceRecordSets).toBe(1);
  });

  it("GIVEN 200 replicas' lag read at once (an evacuation's pre-flight) WHEN through the worker's lag port THEN one GetMetricData answers each with its own value, nothing throttled", async () => {
    const region = 'eu-west-3';
    const series = Array.from({ length: 200 }, (_, i) => ({
      metricName: 'ReplicaLag' as const,
      resourceId: `lag-it-${process.pid}-${i}`,
      region,
    }));
    await Promise.all(series.map((one, i) => aws.setLag(one, (i % 9) + 1)));
    await aws.resetStats();

    const readings = await Promise.all(series.map((one) => ports.ports.lagMetrics.latestLag(one)));

    expect(readings.map((reading) => reading?.lagMs)).toEqual(series.map((_, i) => ((i % 9) + 1) * 1000));
    expect(readings[17]?.source).toBe(`ReplicaLag of lag-it-${process.pid}-17 in ${region}`);
    const stats = await aws.stats();
    expect(stats.operations.GetMetricData).toMatchObject({ calls: 1, throttled: 0 });
  });

  it('GIVEN 30 instances read at once WHEN describing through the paced adapter THEN one DescribeDBInstances answers all', async () => {
    const region = 'eu-west-3';
    const ids = Array.from({ length: 30 }, (_, i) => `fleet-it-${process.pid}-${i}`);
    const rds = raw.rds(region);
    for (const id of ids) {
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          Engine: 'postgres',
          DBInstanceClass: 'db.t3.micro',
          AllocatedStorage: 20,
          MasterUsername: 'fleet',
          MasterUserPassword: 'sandbox-not-a-secret',
        }),
      );
    }
    try {
      const found = await Promise.all(ids.map((id) => ports.ports.rds.describeInstance(region, id)));

      expect(found.map((i) => i?.instanceId)).toEqual(ids);
      expect((await aws.stats()).operations.DescribeDBInstances?.calls).toBe(1);
    } finally {
      for (const id of ids)
        await rds
          .send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true }))
          .catch(() => undefined);
      rds.destroy();
    }
  });

  it('GIVEN a promotion waiting for an RDS token behind a long queue WHEN its step is cancelled (aborted, timed out) THEN AWS never sees the PromoteReadReplica (before: sent once its token came)', async () => {
    const region = 'eu-west-3';
    const pacer = ports.pacer;
    while (pacer.queueDrainMs('rds', region) === 0 && (await pacer.take('rds', region, 0)) === 0);
    // Older steps' calls ahead of it: at 12 a second, the promotion's token is seconds away.
    const ahead = Array.from({ length: 40 }, () => pacer.take('rds', region, 0));
    const step = new MockActivityEnvironment();
    const promoting = step
      .run(() => ports.ports.rds.promoteReadReplica(region, `fleet-it-${process.pid}-never-promoted`))
      .then(
        () => 'sent',
        (error: Error) => error.name,
      );
    await new Promise((resolve) => setTimeout(resolve, 300));
    step.cancel();

    expect(await promoting).toBe('CancelledFailure');
    await Promise.all(ahead);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await aws.stats()).operations.PromoteReadReplica?.calls ?? 0).toBe(0);
  });

  it('GIVEN 600 records read ahead and another writer moving one of the second change batch WHEN switching from that read THEN the first batch is switched, Route 53 refuses the second whole, and the step fails PartlySwitched naming the 500 it switched', async () => {
    const partlyZone = `fleet-it-partly-${process.pid}.drctl.internal.`;
    const created = await raw.route53.send(
      new CreateHostedZoneCommand({ Name: partlyZone, CallerReference: `fleet-it-partly-${Date.now()}` }),
    );
    const partlyZoneId = (created.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    const names = Array.from({ length: 600 }, (_, i) => `p-${String(i).padStart(3, '0')}.${partlyZone}`);
    const moved = names[550] as string;
    try {
      await upsertRecords(raw.route53, partlyZoneId, names, { type: 'A', value: '10.2.0.1' });
      const activities = createDnsActivities({ route53: ports.ports.route53 });
      const wanted = {
        zone: { name: partlyZone },
        records: names.map((name) => ({ name, type: 'A' as const })),
      };
      const readAhead = await activities.readDnsRecords(wanted);
      await upsertRecords(raw.route53, partlyZoneId, [moved], { type: 'A', value: '10.2.0.9' }); // another writer, after the read ahead

      const error = await activities
        .switchDns({
          zone: { name: partlyZone },
          records: names.map((name) => ({ name, type: 'A' as const, ttl: 60, value: '10.2.0.2' })),
          checkResolution: false,
          expectedBefore: readAhead,
          batchedSwaps: true,
        })
        .catch((e: unknown) => e);

      expect(error).toMatchObject({ type: 'PartlySwitched', nonRetryable: true });
      expect((error as { details?: unknown[] }).details?.[0]).toEqual({
        switched: Array.from({ length: 500 }, (_, i) => i),
      });
      const now = await activities.readDnsRecords(wanted);
      expect(now.map((record) => record.values[0])).toEqual(
        names.map((name, i) => (i < 500 ? '10.2.0.2' : name === moved ? '10.2.0.9' : '10.2.0.1')),
      );
      const stats = await aws.stats();
      expect(stats.effects.ChangeResourceRecordSets).toBe(1);
      expect(stats.operations.ChangeResourceRecordSets?.refused).toEqual({ InvalidChangeBatch: 1 });
    } finally {
      await raw.route53.send(new DeleteHostedZoneCommand({ Id: partlyZoneId })).catch(() => undefined);
    }
  });
});
