import type { DatabaseInput } from '../../activities/contracts';
import { createDatabaseActivities } from '../fakes/database-activities';
import { permanentFailure } from '../../activities/failures';
import { FakePostgres } from '../fakes/fake-postgres';
import { FakeRds } from '../fakes/fake-rds';
import { failureOf } from './failure-of';
import { aurora, fastPoll, portal } from './database-targets';

function setup() {
  const { rds, primary, replica } = FakeRds.portalPair();
  const cluster = rds.addCluster({
    clusterId: 'billing',
    region: 'us-east-1',
    members: [
      { instanceId: 'billing-1', isWriter: true },
      { instanceId: 'billing-2', isWriter: false },
    ],
  });
  const activities = createDatabaseActivities({ postgres: new FakePostgres(), rds, poll: fastPoll });
  return { rds, primary, replica, cluster, activities };
}

describe('rds-instance', () => {
  it('GIVEN a cross-region replica of the primary WHEN checking THEN it passes and says lag is not measured', async () => {
    const { activities } = setup();

    const results = await activities.checkDatabase(portal);

    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.find((r) => r.check === 'database portal: replica of the primary')?.message).toMatch(
      /db:patient-portal-primary$/,
    );
    expect(results.find((r) => r.check === 'database portal: replication lag')?.message).toMatch(
      /^not measured/,
    );
  });

  it('GIVEN the replica replicates from another instance WHEN checking THEN that check fails naming both', async () => {
    const { activities, replica } = setup();
    replica.replicaOf = 'other-db';

    const results = await activities.checkDatabase(portal);

    expect(results.find((r) => r.check === 'database portal: replica of the primary')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/other-db, not patient-portal-primary/),
    });
  });

  it('GIVEN the replica does not exist WHEN checking or promoting THEN check fails and promote is ReplicaNotFound (permanent)', async () => {
    const { activities, rds } = setup();
    rds.state.instances.delete('us-west-2/patient-portal-replica');

    expect(await activities.checkDatabase(portal)).toEqual([
      expect.objectContaining({ ok: false, check: 'database portal: replica exists' }),
    ]);
    expect(await failureOf(activities.promoteDatabase(portal))).toMatchObject({
      type: 'ReplicaNotFound',
      nonRetryable: true,
    });
  });

  it('GIVEN a replica that reports modifying for 3 polls WHEN promoting twice THEN it waits, is promoted once, and the second run changes nothing', async () => {
    const { activities, rds, replica } = setup();
    replica.promoteModifyingPolls = 3;

    const first = await activities.promoteDatabase(portal);
    const second = await activities.promoteDatabase(portal);

    expect(first).toMatchObject({
      changed: true,
      writableEndpoint: replica.endpoint,
      facts: { status: 'available' },
    });
    expect(second).toMatchObject({ changed: false, writableEndpoint: replica.endpoint });
    expect(rds.state.promotions).toEqual(['patient-portal-replica']);
    expect(replica.replicaOf).toBeNull();
  });

  it('GIVEN the primary WHEN fencing twice with stop-instance THEN it is stopped once', async () => {
    const { activities, rds, primary } = setup();
    primary.stoppingPolls = 2;

    const first = await activities.fenceDatabase(portal);
    const second = await activities.fenceDatabase(portal);

    expect(first).toMatchObject({ changed: true, facts: { status: 'stopped' } });
    expect(second.changed).toBe(false);
    expect(rds.state.stops).toEqual(['patient-portal-primary']);
  });

  it("GIVEN fence 'none' WHEN fencing THEN nothing is called", async () => {
    const { activities, rds } = setup();
    const target = { ...portal.target, fence: 'none' } as DatabaseInput['target'];

    const outcome = await activities.fenceDatabase({ name: 'portal', target });

    expect(outcome.changed).toBe(false);
    expect(rds.state.stops).toEqual([]);
  });

  it('GIVEN access is denied WHEN promoting THEN AccessDenied stays permanent', async () => {
    const { activities, rds } = setup();
    rds.failWith = permanentFailure('AccessDenied', 'rds:DescribeDBInstances denied');

    expect(await failureOf(activities.promoteDatabase(portal))).toMatchObject({
      type: 'AccessDenied',
      nonRetryable: true,
    });
  });

  it('GIVEN the pair WHEN planning THEN stop and promotion are planned and nothing changes', async () => {
    const { activities, rds } = setup();

    const fence = await activities.planFence(portal);
    const promote = await activities.planPromote(portal);

    expect(fence).toEqual([
      expect.objectContaining({ desired: 'stopped (StopDBInstance)', willChange: true }),
    ]);
    expect(promote.changes[0]?.willChange).toBe(true);
    expect(promote.writableEndpoint).toBe('patient-portal-replica.abc.us-west-2.rds.amazonaws.com');
    expect(rds.state.promotions).toEqual([]);
    expect(rds.state.stops).toEqual([]);
  });
});

describe('aurora-cluster', () => {
  it('GIVEN a reader WHEN failing over twice with a 2-poll failover THEN it waits, fails over once, and returns the cluster endpoint', async () => {
    const { activities, rds, cluster } = setup();
    cluster.failoverPolls = 2;

    const first = await activities.promoteDatabase(aurora);
    const second = await activities.promoteDatabase(aurora);

    expect(first).toMatchObject({ changed: true, writableEndpoint: cluster.endpoint });
    expect(second.changed).toBe(false);
    expect(rds.state.failovers).toEqual(['billing->billing-2']);
  });

  it('GIVEN a target that is not a member WHEN checking or promoting THEN check fails and promote is ReplicaNotFound', async () => {
    const { activities } = setup();
    const target = { ...aurora.target, targetInstanceId: 'billing-9' } as DatabaseInput['target'];

    const results = await activities.checkDatabase({ name: 'billing', target });
    expect(results.find((r) => r.check === 'database billing: target reader exists')?.ok).toBe(false);
    expect(await failureOf(activities.promoteDatabase({ name: 'billing', target }))).toMatchObject({
      type: 'ReplicaNotFound',
    });
  });

  it('GIVEN the cluster WHEN planning and fencing THEN the failover is planned and the fence changes nothing', async () => {
    const { activities, rds } = setup();

    expect((await activities.planPromote(aurora)).changes[0]).toMatchObject({
      current: 'reader (writer is billing-1)',
      willChange: true,
    });
    expect(await activities.fenceDatabase(aurora)).toMatchObject({ changed: false });
    expect(rds.state.failovers).toEqual([]);
  });
});
