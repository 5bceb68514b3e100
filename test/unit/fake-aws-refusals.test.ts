import type { DnsUpsert } from '../../activities/dns/route53-port';
import { FakeEvidenceStore } from '../fakes/fake-evidence-store';
import { FakeRds } from '../fakes/fake-rds';
import { FakeRoute53 } from '../fakes/fake-route53';
import { failureOf } from './failure-of';

/**
 * The fakes refuse what AWS refuses, with the failures the real adapters make of AWS's errors (the strict AWS
 * layer enforces the same rules on the local stack): a fake that accepts what AWS refuses would let a unit test
 * pass that production fails.
 */
describe('FakeRds refuses what RDS refuses', () => {
  it('GIVEN a read replica WHEN stopping it THEN InvalidState (InvalidDBInstanceState), not retried', async () => {
    // "You can't stop a DB instance that has a read replica, or that is a read replica." (USER_StopInstance.html)
    const { rds, replica } = FakeRds.portalPair();

    const failure = await failureOf(rds.stopInstance(replica.region, replica.instanceId));

    expect(failure).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(failure.message).toMatch(/InvalidDBInstanceState: Cannot stop or start a Read-Replica instance/);
    expect(replica.status).toBe('available');
  });

  it('GIVEN a primary WHEN stopping a primary that has a read replica THEN InvalidState; once the replica is promoted THEN the stop goes through', async () => {
    const { rds, primary, replica } = FakeRds.portalPair();

    const refused = await failureOf(rds.stopInstance(primary.region, primary.instanceId));
    await rds.promoteReadReplica(replica.region, replica.instanceId);
    await rds.stopInstance(primary.region, primary.instanceId);

    expect(refused).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(refused.message).toMatch(/because it has read replicas: patient-portal-replica/);
    expect(rds.state.stops).toEqual(['patient-portal-primary']);
    expect(primary.status).toBe('stopped');
  });

  it('GIVEN the default (the rule on, as in the strict layer) WHEN stopping the primary with a replica THEN InvalidState and it keeps running', async () => {
    const { rds, primary } = FakeRds.portalPair();

    const refused = await failureOf(rds.stopInstance(primary.region, primary.instanceId));

    expect(refused).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(primary.status).toBe('available');
  });

  it('GIVEN an instance that is not a read replica WHEN promoting it THEN InvalidState and nothing is promoted', async () => {
    // PromoteReadReplica: DBInstanceIdentifier "Must match the identifier of an existing read replica DB instance".
    const { rds, primary } = FakeRds.portalPair();

    const failure = await failureOf(rds.promoteReadReplica(primary.region, primary.instanceId));

    expect(failure).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(rds.state.promotions).toEqual([]);
  });

  it('GIVEN an Aurora cluster failing over WHEN FailoverDBCluster again THEN InvalidState (InvalidDBClusterStateFault) and one failover is recorded', async () => {
    const rds = new FakeRds();
    const cluster = rds.addCluster({
      clusterId: 'billing',
      region: 'us-east-1',
      failoverPolls: 3,
      members: [
        { instanceId: 'billing-1', isWriter: true },
        { instanceId: 'billing-2', isWriter: false },
      ],
    });

    await rds.failoverCluster('us-east-1', 'billing', 'billing-2');
    const failure = await failureOf(rds.failoverCluster('us-east-1', 'billing', 'billing-2'));

    expect(cluster.status).toBe('failing-over');
    expect(failure).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(failure.message).toMatch(/InvalidDBClusterStateFault/);
    expect(rds.state.failovers).toEqual(['billing->billing-2']);
  });
});

describe('FakeRoute53 refuses what Route 53 refuses', () => {
  const zone = { id: 'Z1', name: 'sandbox.drctl.internal.' };
  const upserts = (count: number, value = '10.0.0.1'): DnsUpsert[] =>
    Array.from({ length: count }, (_, i) => ({
      name: `r${i}.sandbox.drctl.internal.`,
      type: 'A' as const,
      ttl: 30,
      value,
    }));

  it('GIVEN 501 UPSERTs (1,002 records, an UPSERT counts twice) THEN InvalidState (InvalidChangeBatch) and nothing is written; 500 fit', async () => {
    // "A request cannot contain more than 1000 ResourceRecord elements. When the value of the Action element is
    // UPSERT, each ResourceRecord element is counted twice." (DNSLimitations.html#limits-api-requests)
    const route53 = new FakeRoute53({ zones: [zone] });

    const failure = await failureOf(route53.upsertRecords('Z1', upserts(501), 'too many'));
    await route53.upsertRecords('Z1', upserts(500), 'fits');

    expect(failure).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(failure.message).toMatch(/InvalidChangeBatch: 1002 ResourceRecord elements/);
    expect(route53.submitted.map((s) => s.comment)).toEqual(['fits']);
  });

  it('GIVEN values of 16,001 characters in UPSERTs (32,002 counted) THEN InvalidChangeBatch', async () => {
    // "The sum of the number of characters … in all Value elements in a request cannot exceed 32,000 characters.
    // When the value of the Action element is UPSERT, each character in a Value element is counted twice."
    const route53 = new FakeRoute53({ zones: [zone] });
    const long = [...upserts(1, 'x'.repeat(8_000)), ...upserts(2, 'y'.repeat(8_001)).slice(1)];

    const failure = await failureOf(route53.upsertRecords('Z1', long, 'long values'));

    expect(failure.message).toMatch(/32002 value characters/);
    expect(route53.valuesOf('Z1', 'r0.sandbox.drctl.internal.', 'A')).toBeUndefined();
  });

  it('GIVEN a change still PENDING WHEN the zone is changed again THEN PriorRequestNotComplete (retryable); after INSYNC THEN the change goes through', async () => {
    // "If Route 53 can't process a request before the next request arrives, it will reject subsequent requests
    // for the same hosted zone … PriorRequestNotComplete" (DNSLimitations.html#limits-api-requests).
    const route53 = new FakeRoute53({ zones: [zone], pendingPolls: 1 });

    const first = await route53.upsertRecords('Z1', upserts(1, '10.0.0.1'), 'first');
    const refused = await failureOf(route53.upsertRecords('Z1', upserts(1, '10.0.0.2'), 'second'));
    await route53.getChange(first.id);
    await route53.getChange(first.id);
    await route53.upsertRecords('Z1', upserts(1, '10.0.0.3'), 'third');

    expect(refused).toMatchObject({ type: 'PriorRequestNotComplete', nonRetryable: false });
    expect(route53.valuesOf('Z1', 'r0.sandbox.drctl.internal.', 'A')).toEqual(['10.0.0.3']);
    expect(route53.submitted.map((s) => s.comment)).toEqual(['first', 'third']);
  });
});

describe('FakeEvidenceStore refuses what S3 Object Lock refuses', () => {
  const key = 'evidence/default/runs/failover-ehr-db-1/run-1/history.json';
  const lockedUntil = new Date('2033-01-01T00:00:00Z');

  function lockedStore(): FakeEvidenceStore {
    const store = new FakeEvidenceStore(() => new Date('2027-01-01T00:00:00Z'));
    store.putVersion(key, '{"events":[]}', { lockMode: 'COMPLIANCE', retainUntil: lockedUntil });
    return store;
  }

  it('GIVEN a version locked in COMPLIANCE WHEN its retention is set earlier THEN AccessDenied and the date stands; a later date extends it', async () => {
    // "its retention period can't be shortened" (Object Lock, retention modes); extending is allowed.
    const store = lockedStore();

    await expect(store.extendRetention(key, new Date('2032-01-01T00:00:00Z'))).rejects.toThrow(
      /AccessDenied: .* cannot be shortened/,
    );
    expect((await store.get(key))?.retainUntil).toEqual(lockedUntil);

    await store.extendRetention(key, new Date('2034-01-01T00:00:00Z'));
    expect(await store.get(key)).toMatchObject({
      lockMode: 'COMPLIANCE',
      retainUntil: new Date('2034-01-01T00:00:00Z'),
    });
  });

  it('GIVEN a locked version under a delete marker THEN a DELETE could hide it, but its retention still cannot be shortened by version id, and the marker holds no lock', async () => {
    const store = lockedStore();
    const [locked] = (await store.listVersions(key)).versions;
    store.addDeleteMarker(key);
    const [marker] = (await store.listVersions(key)).deleteMarkers;

    await expect(
      store.extendRetention(key, new Date('2030-01-01T00:00:00Z'), locked!.versionId),
    ).rejects.toThrow(/AccessDenied/);
    await expect(
      store.extendRetention(key, new Date('2034-01-01T00:00:00Z'), marker!.versionId),
    ).rejects.toThrow(/MethodNotAllowed/);
    expect(await store.get(key)).toBeUndefined();
    expect((await store.getVersion(key, locked!.versionId))?.retainUntil).toEqual(lockedUntil);
    expect(marker!.isLatest).toBe(true);
  });
});
