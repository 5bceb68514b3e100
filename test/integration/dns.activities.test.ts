import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startFaultProxy } from '../../sandbox/fault-proxy';
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { createDnsActivities } from '../../kinds/dns-switch/activities';
import type { DnsRecordChange } from '../../kinds/dns-switch/definition';
import { resolveRecord } from '../../activities/dns/resolve-record';
import { createRoute53Adapter } from '../../activities/dns/route53-adapter';
import { createSandboxAwsClients } from '../../sandbox/aws-clients';
import { getStack } from './stack';

/**
 * switchDns against the sandbox's moto Route 53. Mutations go to a record of this test's own in the seeded
 * zone, so a concurrently running drill on ehr-db is not disturbed; the seeded records are only read, and one
 * switch includes ehr-db at its current value to prove unchanged records are left alone.
 */
describe('dns activities against moto', () => {
  const stack = getStack();
  const zone = { name: stack.aws.route53.zoneName };
  const ehr = stack.aws.route53.records.find((r) => r.name.startsWith('ehr-db.'));
  const own = `drctl-it-dns-${process.pid}.${stack.aws.route53.zoneName}`;
  let client: Route53Client;
  let route53: ReturnType<typeof createRoute53Adapter>;
  let activities: ReturnType<typeof createDnsActivities>;

  beforeAll(() => {
    client = createSandboxAwsClients(stack.moto.endpoint).route53;
    route53 = createRoute53Adapter(client);
    activities = createDnsActivities({ route53 });
  });

  afterAll(async () => {
    // Tolerant: a concurrent `sandbox reset --only aws` may already have wiped the zone and this record.
    const current = await readBack(own).catch(() => undefined);
    if (current) {
      await deleteRecord(own, current);
    }
    client.destroy();
  });

  /** Deletes a record this test made (tolerant: a concurrent `sandbox reset --only aws` may have wiped it). */
  async function deleteRecord(name: string, held: { value: string; ttl: number }): Promise<void> {
    await client
      .send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: await zoneId(),
          ChangeBatch: {
            Changes: [
              {
                Action: 'DELETE',
                ResourceRecordSet: {
                  Name: name,
                  Type: 'A',
                  TTL: held.ttl,
                  ResourceRecords: [{ Value: held.value }],
                },
              },
            ],
          },
        }),
      )
      .catch(() => undefined);
  }

  async function zoneId(): Promise<string> {
    return (await route53.findZone(zone)).id;
  }

  /** The record as Route 53 stores it, read with the plain SDK rather than through the adapter under test. */
  async function readBack(name: string): Promise<{ value: string; ttl: number } | undefined> {
    const out = await client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: await zoneId(),
        StartRecordName: name,
        StartRecordType: 'A',
        MaxItems: 1,
      }),
    );
    const set = out.ResourceRecordSets?.find((r) => r.Name === name && r.Type === 'A');
    return set ? { value: set.ResourceRecords?.[0]?.Value ?? '', ttl: set.TTL ?? 0 } : undefined;
  }

  it('GIVEN the seeded zone WHEN checking and resolving THEN ehr-db answers what Route 53 stores', async () => {
    expect(ehr).toBeDefined();
    const results = await activities.checkDnsRecords({
      zone,
      records: stack.aws.route53.records.map((r) => ({ name: r.name, type: r.type })),
    });

    expect(results.filter((r) => !r.ok)).toEqual([]);
    // A concurrent drill may have switched ehr-db away from the seeded 127.0.0.2; compare with a plain SDK read.
    const stored = await readBack('ehr-db.sandbox.drctl.internal.');
    await expect(resolveRecord(route53, zone, 'ehr-db.sandbox.drctl.internal')).resolves.toBe(stored?.value);
  });

  it('GIVEN a record at one value WHEN switching it THEN Route 53 stores the new value, and a re-run changes nothing', async () => {
    const first = await activities.switchDns({
      zone,
      records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.10' }],
      checkResolution: true,
    });
    expect(first.changed).toBe(true);
    expect(await readBack(own)).toEqual({ value: '127.0.0.10', ttl: 30 });

    const plan = await activities.planDnsSwitch({
      zone,
      records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.11' }],
      checkResolution: true,
    });
    expect(plan).toEqual([
      {
        target: `A ${own}`,
        current: '127.0.0.10 (TTL 30)',
        desired: '127.0.0.11 (TTL 30)',
        willChange: true,
      },
    ]);

    // ehr-db goes in at the value and TTL it holds right now, so this switch must leave it alone.
    const ehrNow = await readBack('ehr-db.sandbox.drctl.internal.');
    if (!ehrNow) throw new Error('ehr-db.sandbox.drctl.internal. A is missing from the sandbox zone');
    const second = await activities.switchDns({
      zone,
      records: [
        { name: 'ehr-db.sandbox.drctl.internal', type: 'A', ttl: ehrNow.ttl, value: ehrNow.value },
        { name: own, type: 'A', ttl: 30, value: '127.0.0.11' },
      ],
      checkResolution: true,
    });
    expect(second.changed).toBe(true);
    expect(second.facts).toMatchObject({
      [`A ${own}`]: '127.0.0.10 → 127.0.0.11',
      'A ehr-db.sandbox.drctl.internal.': `${ehrNow.value} (unchanged)`,
      resolutionCheck: expect.stringMatching(/zone read back/),
    });
    expect(await readBack(own)).toEqual({ value: '127.0.0.11', ttl: 30 });

    const again = await activities.switchDns({
      zone,
      records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.11' }],
      checkResolution: true,
    });
    expect(again.changed).toBe(false);
    expect(again.facts.changeId).toBeUndefined();
    expect(await readBack(own)).toEqual({ value: '127.0.0.11', ttl: 30 });
  });

  it('GIVEN a record of two addresses WHEN switching it to one and applying the undo THEN Route 53 holds both addresses again (before: the undo kept only the first)', async () => {
    const multi = `drctl-it-dns-multi-${process.pid}.${stack.aws.route53.zoneName}`;
    const both = ['127.0.0.13', '127.0.0.14'];
    await activities.switchDns({
      zone,
      records: [{ name: multi, type: 'A', ttl: 30, value: both[0] ?? '', values: both }],
      checkResolution: true,
    });
    const read = async () =>
      (await activities.readDnsRecords({ zone, records: [{ name: multi, type: 'A' }] }))[0];
    expect((await read())?.values.sort()).toEqual(both);

    const switched = await activities.switchDns({
      zone,
      records: [{ name: multi, type: 'A', ttl: 30, value: '127.0.0.15' }],
      checkResolution: true,
    });
    expect((await read())?.values).toEqual(['127.0.0.15']);
    expect(switched.compensation).toMatchObject({ records: [{ name: multi, values: both }] });

    const undo = switched.compensation as { records: DnsRecordChange[] };
    const undone = await activities.switchDns({ zone, records: undo.records, checkResolution: true });
    expect(undone.changed).toBe(true);
    expect((await read())?.values.sort()).toEqual(both);
    // The undo of a set of several values is at its values now: running it again changes nothing.
    expect((await activities.switchDns({ zone, records: undo.records, checkResolution: true })).changed).toBe(
      false,
    );

    await activities.switchDns({
      zone,
      records: [{ name: multi, type: 'A', ttl: 30, value: '127.0.0.15' }],
      checkResolution: false,
    });
    await deleteRecord(multi, { value: '127.0.0.15', ttl: 30 });
  });

  it('GIVEN a record read ahead that another writer moved WHEN switching with that read THEN Route 53 is left as the writer set it; with a fresh read it switches', async () => {
    await activities.switchDns({
      zone,
      records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.12' }],
      checkResolution: false,
    });
    const readAhead = await activities.readDnsRecords({ zone, records: [{ name: own, type: 'A' }] });
    expect(readAhead).toEqual([{ name: own, type: 'A', ttl: 30, values: ['127.0.0.12'] }]);
    await activities.switchDns({
      zone,
      records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.14' }],
      checkResolution: false,
    });

    const refused = await activities
      .switchDns({
        zone,
        records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.13' }],
        checkResolution: false,
        expectedBefore: readAhead,
      })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ type: 'ChangedSinceRead', nonRetryable: true });
    // Route 53 itself refused the swap (DELETE of the value read, CREATE of the new one): no read in between.
    expect((refused as Error).message).toContain(
      `Tried to delete resource record set [name='${own}', type='A'] but the values provided do not match the current values`,
    );
    expect(await readBack(own)).toEqual({ value: '127.0.0.14', ttl: 30 });

    const fresh = await activities.readDnsRecords({ zone, records: [{ name: own, type: 'A' }] });
    const switched = await activities.switchDns({
      zone,
      records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.13' }],
      checkResolution: false,
      expectedBefore: fresh,
    });
    expect(switched.changed).toBe(true);
    expect(await readBack(own)).toEqual({ value: '127.0.0.13', ttl: 30 });
  });

  it("GIVEN a record the run found absent that another writer created since WHEN switching with that read THEN Route 53 refuses the CREATE and the record keeps the writer's value", async () => {
    const created = `drctl-it-dns-created-${process.pid}.${stack.aws.route53.zoneName}`;
    const readAhead = await activities.readDnsRecords({ zone, records: [{ name: created, type: 'A' }] });
    expect(readAhead).toEqual([{ name: created, type: 'A', ttl: null, values: [] }]);
    await activities.switchDns({
      zone,
      records: [{ name: created, type: 'A', ttl: 30, value: '127.0.0.21' }],
      checkResolution: false,
    });
    try {
      const refused = await activities
        .switchDns({
          zone,
          records: [{ name: created, type: 'A', ttl: 30, value: '127.0.0.22' }],
          checkResolution: false,
          expectedBefore: readAhead,
        })
        .catch((error: unknown) => error);

      expect(refused).toMatchObject({ type: 'ChangedSinceRead', nonRetryable: true });
      expect((refused as Error).message).toContain('but it already exists');
      expect(await readBack(created)).toEqual({ value: '127.0.0.21', ttl: 30 });
    } finally {
      await deleteRecord(created, { value: '127.0.0.21', ttl: 30 });
    }
  });

  it('GIVEN a swap whose answer is lost after Route 53 applied it WHEN the SDK sends it again THEN the step fails retryably, and its retry reads the zone, sends nothing more and keeps the undo', async () => {
    // The SDK's second attempt is refused (its DELETE no longer matches: the first went through). Reported as
    // ChangedSinceRead, the run would have withdrawn the undo and read the switched record as the state before.
    const lost = `drctl-it-dns-lost-${process.pid}.${stack.aws.route53.zoneName}`;
    await activities.switchDns({
      zone,
      records: [{ name: lost, type: 'A', ttl: 30, value: '127.0.0.31' }],
      checkResolution: false,
    });
    const proxy = await startFaultProxy({
      target: stack.moto.endpoint,
      faultRate: 0,
      faults: [],
      forced: [
        { match: (req) => req.operation === 'ChangeResourceRecordSets', kind: 'answer-lost', times: 1 },
      ],
    });
    const proxied = createSandboxAwsClients(proxy.url).route53;
    try {
      const throughProxy = createDnsActivities({ route53: createRoute53Adapter(proxied) });
      const input = {
        zone,
        records: [{ name: lost, type: 'A' as const, ttl: 30, value: '127.0.0.32' }],
        checkResolution: false,
        expectedBefore: await activities.readDnsRecords({ zone, records: [{ name: lost, type: 'A' }] }),
      };
      let details: unknown;
      const first = new MockActivityEnvironment({ attempt: 1 });
      first.on('heartbeat', (beat: unknown) => (details = beat));

      const failed = await first.run(() => throughProxy.switchDns(input)).catch((e: unknown) => e);
      const retried: Awaited<ReturnType<typeof throughProxy.switchDns>> = await new MockActivityEnvironment({
        attempt: 2,
        heartbeatDetails: details,
      }).run(() => throughProxy.switchDns(input));

      expect(failed).toMatchObject({ type: 'OutcomeUnknown', nonRetryable: false });
      // The SDK's later attempts met the change PENDING (PriorRequestNotComplete) or refused (its DELETE).
      expect(proxy.stats().operations.ChangeResourceRecordSets?.forwarded).toBeGreaterThanOrEqual(2);
      expect(await readBack(lost)).toEqual({ value: '127.0.0.32', ttl: 30 });
      expect(retried.compensation).toEqual({
        zone,
        records: [{ name: lost, type: 'A', ttl: 30, value: '127.0.0.31' }],
      });
    } finally {
      proxied.destroy();
      await proxy.close();
      await deleteRecord(lost, { value: '127.0.0.32', ttl: 30 });
    }
  });

  it('GIVEN a zone that does not exist WHEN switching THEN it fails permanently naming the zone', async () => {
    const error = await activities
      .switchDns({
        zone: { name: 'no-such-zone.internal.' },
        records: [{ name: own, type: 'A', ttl: 30, value: '127.0.0.12' }],
        checkResolution: false,
      })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'NotFound', nonRetryable: true });
    expect((error as Error).message).toMatch(/no-such-zone\.internal\./);
  });
});
