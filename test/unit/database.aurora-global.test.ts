import type { DatabaseInput } from '../../activities/contracts';
import { createDatabaseActivities } from '../fakes/database-activities';
import { FakeLagMetrics } from '../fakes/fake-lag-metrics';
import { FakePostgres } from '../fakes/fake-postgres';
import { FakeRds } from '../fakes/fake-rds';
import { fastPoll } from './database-targets';
import { failureOf } from './failure-of';

const EAST = 'arn:aws:rds:us-east-1:123456789012:cluster:ehr-aurora-east';
const WEST = 'arn:aws:rds:us-west-2:123456789012:cluster:ehr-aurora-west';

function ehrGlobal(mode: 'planned' | 'unplanned', maxLag = '30s'): DatabaseInput {
  return {
    name: 'ehr',
    mode,
    target: {
      provider: 'aurora-global',
      globalClusterId: 'ehr-global',
      primary: { clusterId: 'ehr-aurora-east', region: 'us-east-1' },
      secondary: { clusterId: 'ehr-aurora-west', region: 'us-west-2' },
      maxLag,
      acceptUnknownLag: false,
    },
  };
}

function setup({ operationPolls = 0 } = {}) {
  const rds = new FakeRds();
  const east = rds.addCluster({
    clusterId: 'ehr-aurora-east',
    region: 'us-east-1',
    members: [{ instanceId: 'ehr-aurora-east-1', isWriter: true }],
  });
  const west = rds.addCluster({
    clusterId: 'ehr-aurora-west',
    region: 'us-west-2',
    members: [{ instanceId: 'ehr-aurora-west-1', isWriter: true }],
  });
  const global = rds.addGlobal('ehr-global', east, west);
  global.operationPolls = operationPolls;
  const lag = new FakeLagMetrics();
  lag.set('AuroraGlobalDBRPOLag', 'ehr-aurora-west', 'us-west-2', 500);
  const activities = createDatabaseActivities({
    postgres: new FakePostgres(),
    rds,
    lagMetrics: lag,
    poll: fastPoll,
  });
  return { rds, global, lag, activities };
}

describe('aurora-global', () => {
  it('GIVEN a planned run WHEN promoting THEN SwitchoverGlobalCluster makes the secondary the writer and its endpoint is writable', async () => {
    const { rds, global, activities } = setup({ operationPolls: 2 });

    const outcome = await activities.promoteDatabase(ehrGlobal('planned'));

    expect(rds.state.globalOperations).toEqual([`SwitchoverGlobalCluster ehr-global->${WEST}`]);
    expect(global.writerArn).toBe(WEST);
    expect(outcome).toMatchObject({ changed: true, facts: { operation: 'SwitchoverGlobalCluster' } });
    expect(outcome.writableEndpoint).toBe('ehr-aurora-west.cluster-abc.us-west-2.rds.amazonaws.com');
  });

  it('GIVEN the primary Region down WHEN an unplanned run promotes THEN FailoverGlobalCluster (AllowDataLoss) in the secondary Region, gated on AuroraGlobalDBRPOLag', async () => {
    const { rds, global, activities } = setup();
    rds.state.regionsDown.add('us-east-1');

    const checks = await activities.checkDatabase(ehrGlobal('unplanned'));
    const outcome = await activities.promoteDatabase(ehrGlobal('unplanned'));

    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.check === 'database ehr: primary')?.message).toMatch(/us-east-1 unreachable/);
    expect(rds.state.globalOperations).toEqual([`FailoverGlobalCluster ehr-global->${WEST}`]);
    expect(global.writerArn).toBe(WEST);
    expect(outcome.facts).toMatchObject({ operation: 'FailoverGlobalCluster', replicationLagMs: 500 });
  });

  it('GIVEN the primary Region down WHEN a planned run promotes THEN PrimaryUnreachable and nothing changes', async () => {
    const { rds, global, activities } = setup();
    rds.state.regionsDown.add('us-east-1');

    const failure = await failureOf(activities.promoteDatabase(ehrGlobal('planned')));

    expect(failure).toMatchObject({ type: 'PrimaryUnreachable', nonRetryable: true });
    expect(rds.state.globalOperations).toEqual([]);
    expect(global.writerArn).toBe(EAST);
  });

  it('GIVEN AuroraGlobalDBRPOLag above maxLag WHEN an unplanned run promotes THEN ReplicaLagTooHigh; with no datapoint THEN ReplicationLagUnknown; nothing changes', async () => {
    const { rds, lag, activities } = setup();
    lag.set('AuroraGlobalDBRPOLag', 'ehr-aurora-west', 'us-west-2', 45_000);
    const tooHigh = await failureOf(activities.promoteDatabase(ehrGlobal('unplanned')));
    lag.set('AuroraGlobalDBRPOLag', 'ehr-aurora-west', 'us-west-2', null);
    const unknown = await failureOf(activities.promoteDatabase(ehrGlobal('unplanned')));

    expect(tooHigh).toMatchObject({ type: 'ReplicaLagTooHigh', nonRetryable: true });
    expect(unknown).toMatchObject({ type: 'ReplicationLagUnknown', nonRetryable: true });
    expect(rds.state.globalOperations).toEqual([]);
  });

  it('GIVEN a switchover already under way WHEN promoting again (a retry) THEN it waits for it and starts no second operation', async () => {
    const { rds, global, activities } = setup({ operationPolls: 3 });
    await rds.switchoverGlobalCluster('us-west-2', 'ehr-global', WEST);

    const outcome = await activities.promoteDatabase(ehrGlobal('planned'));

    expect(rds.state.globalOperations).toHaveLength(1);
    expect(global.writerArn).toBe(WEST);
    expect(outcome.changed).toBe(false);
  });
});
