import { MockActivityEnvironment } from '@temporalio/testing';
import type { DatabaseInput, StepOutcome } from '../../activities/contracts';
import { createDatabaseActivities } from '../fakes/database-activities';
import { permanentFailure } from '../../activities/failures';
import { FakePostgres } from '../fakes/fake-postgres';
import { FakeLagMetrics } from '../fakes/fake-lag-metrics';
import { FakeRds } from '../fakes/fake-rds';
import { failureOf } from './failure-of';
import { slowPort } from './slow-port';
import {
  decodeFenceTags,
  encodeFenceTags,
  sameFence,
  type SecurityGroupFenceMarker,
  fenceWithSecurityGroup,
} from '../../providers/database/rds-instance/security-group-fence';
import { aurora, fastPoll, portal } from './database-targets';
import type { RdsPort } from '../../activities/database/rds-port';
import type { FenceUndo } from '../../kinds/database-fence/definition';

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
  const lag = new FakeLagMetrics();
  lag.set('AuroraReplicaLag', 'billing', 'us-east-1', 20);
  const activities = createDatabaseActivities({
    postgres: new FakePostgres(),
    rds,
    lagMetrics: lag,
    poll: fastPoll,
  });
  return { rds, primary, replica, cluster, lag, activities };
}

/** The fence `run/7` of the portal's primary as RDS shows it now, sent through `port` (the fake, or a wrapper). */
async function fencePortalPrimary(rds: FakeRds, env: MockActivityEnvironment, port: RdsPort = rds) {
  return env.run(async () =>
    fenceWithSecurityGroup(
      port,
      'us-east-1',
      (await rds.describeInstance('us-east-1', 'patient-portal-primary'))!,
      'sg-drctl-fence-deny-all-us-east-1',
      'run/7',
      fastPoll,
    ),
  );
}

/** An activity attempt that keeps every heartbeat it sends. */
function recordingAttempt(): { env: MockActivityEnvironment; beats: unknown[] } {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(structuredClone(details)));
  return { env, beats };
}

/** Tags the fake instance as a fence with this marker would have. */
function tagFence(
  instance: { tags: Record<string, string> },
  marker: Omit<SecurityGroupFenceMarker, 'rebooted'>,
) {
  Object.assign(instance.tags, encodeFenceTags(marker));
}

/** `count` security groups with ids of AWS's length (`sg-` and 17 hex digits: 20 characters). */
function manyGroups(rds: FakeRds, count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => rds.addSecurityGroup('us-east-1', `clnt-${String(i).padStart(2, '0')}`, 1).id,
  );
}

/** A workflow id as long as Temporal allows by default (1,000 characters), e.g. an evacuation child's. */
const LONG_WORKFLOW_ID = `failover-${'patient-portal-evacuation-wave-'.repeat(33)}`.slice(0, 1000);

describe('rds-instance', () => {
  it('GIVEN a cross-region replica of the primary and ReplicaLag within maxLag WHEN checking THEN every check passes with the measured lag', async () => {
    const { activities, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 2000);

    const results = await activities.checkDatabase(portal);

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.find((r) => r.check === 'database portal: replica of the primary')?.message).toMatch(
      /db:patient-portal-primary$/,
    );
    expect(results.find((r) => r.check === 'database portal: replication lag')?.message).toMatch(
      /^2s ≤ maxLag 30s \(ReplicaLag of patient-portal-replica in us-west-2/,
    );
    expect(results.find((r) => r.check === 'database portal: fence security group')?.ok).toBe(true);
  });

  it('GIVEN slow reads WHEN checking THEN the replica, the primary and the lag are read at once, and the checks keep their order', async () => {
    const { rds, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 2000);
    const inFlight = { now: 0, most: 0 };
    const activities = createDatabaseActivities({
      postgres: new FakePostgres(),
      rds: slowPort(rds, inFlight).port,
      lagMetrics: slowPort(lag, inFlight).port,
      poll: fastPoll,
    });

    const results = await activities.checkDatabase(portal);

    expect(inFlight.most).toBe(3);
    expect(results.map((r) => r.check.replace('database portal: ', ''))).toEqual([
      'replica exists',
      'replica of the primary',
      'replica available',
      'primary',
      'fence security group',
      'replication lag',
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('GIVEN the primary’s read fails WHEN checking THEN the check fails only once the lag read it started has answered (no read outlives its activity)', async () => {
    const { rds, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 2000);
    let lagAnswered = false;
    const slowLag = new Proxy(lag, {
      get: (target, property, receiver) =>
        property === 'latestLag'
          ? async (...args: unknown[]) => {
              await new Promise((resolve) => setTimeout(resolve, 100));
              lagAnswered = true;
              return (Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown).apply(
                target,
                args,
              );
            }
          : Reflect.get(target, property, receiver),
    });
    const deniedPrimary = new Proxy(rds, {
      get: (target, property, receiver) =>
        property === 'describeInstance'
          ? async (region: string, id: string) => {
              if (id === 'patient-portal-primary') throw permanentFailure('AccessDenied', 'not allowed');
              return target.describeInstance(region, id);
            }
          : Reflect.get(target, property, receiver),
    });
    const activities = createDatabaseActivities({
      postgres: new FakePostgres(),
      rds: deniedPrimary,
      lagMetrics: slowLag,
      poll: fastPoll,
    });

    const error = await failureOf(activities.checkDatabase(portal));

    expect(error.message).toMatch(/not allowed/);
    expect(lagAnswered).toBe(true);
  });

  it('GIVEN no ReplicaLag datapoint WHEN checking THEN the lag check fails, unless the runbook accepts unknown lag', async () => {
    const { activities } = setup();

    const strict = await activities.checkDatabase(portal);
    const accepting = await activities.checkDatabase({
      ...portal,
      target: { ...portal.target, acceptUnknownLag: true } as DatabaseInput['target'],
    });

    expect(strict.find((r) => r.check === 'database portal: replication lag')).toMatchObject({
      ok: false,
      message: expect.stringMatching(
        /^not measured \(no ReplicaLag datapoint .*fails this check.*acceptUnknownLag/,
      ),
    });
    expect(accepting.find((r) => r.check === 'database portal: replication lag')).toMatchObject({
      ok: true,
      message: expect.stringMatching(/stops for an approval/),
    });
  });

  it('GIVEN no ReplicaLag datapoint WHEN promoting THEN ReplicationLagUnknown, and with acceptUnknownLag an approval lets it through, recorded', async () => {
    const { activities, rds } = setup();
    const accepting = {
      ...portal,
      target: { ...portal.target, acceptUnknownLag: true } as DatabaseInput['target'],
    };

    const refused = await failureOf(activities.promoteDatabase(portal));
    const waiting = await failureOf(activities.promoteDatabase(accepting));
    const approved = await activities.promoteDatabase({ ...accepting, approvals: { unknownLag: 'bob' } });

    expect(refused).toMatchObject({ type: 'ReplicationLagUnknown', nonRetryable: true });
    expect(refused.message).toMatch(/set acceptUnknownLag: true/);
    expect(waiting.message).toMatch(/approve to promote without knowing/);
    expect(approved).toMatchObject({ changed: true, facts: { unknownLagApprovedBy: 'bob' } });
    expect(rds.state.promotions).toEqual(['patient-portal-replica']);
  });

  it('GIVEN ReplicaLag above maxLag WHEN promoting THEN ReplicaLagTooHigh and nothing is promoted', async () => {
    const { activities, rds, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 45_000);

    const failure = await failureOf(activities.promoteDatabase(portal));

    expect(failure).toMatchObject({ type: 'ReplicaLagTooHigh', nonRetryable: true });
    expect(failure.message).toMatch(/45s > maxLag 30s/);
    expect(rds.state.promotions).toEqual([]);
  });

  it('GIVEN a planned run and a replica already caught up WHEN promoting THEN one lag read lets it through', async () => {
    const { activities, rds, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 0);

    const outcome = await activities.promoteDatabase({ ...portal, mode: 'planned' });

    expect(outcome).toMatchObject({ changed: true, facts: { replicationLagMs: 0 } });
    expect(lag.reads).toBe(1);
    expect(rds.state.promotions).toEqual(['patient-portal-replica']);
  });

  it('GIVEN a planned run and a lag that never reaches 0 WHEN promoting THEN it waits up to maxLag and fails as ReplicaNotCaughtUp', async () => {
    const { activities, rds, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 1000);
    const short = {
      ...portal,
      mode: 'planned' as const,
      target: { ...portal.target, maxLag: '50ms' } as DatabaseInput['target'],
    };

    const failure = await failureOf(activities.promoteDatabase(short));

    expect(failure).toMatchObject({ type: 'ReplicaNotCaughtUp', nonRetryable: true });
    expect(rds.state.promotions).toEqual([]);
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
    const { activities, rds, replica, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 0);
    replica.promoteModifyingPolls = 3;

    const first = await activities.promoteDatabase(portal);
    const second = await activities.promoteDatabase(portal);

    expect(first).toMatchObject({
      changed: true,
      writableEndpoint: replica.endpoint,
      facts: { status: 'available', replicationLagMs: 0 },
    });
    expect(second).toMatchObject({ changed: false, writableEndpoint: replica.endpoint });
    expect(rds.state.promotions).toEqual(['patient-portal-replica']);
    expect(replica.replicaOf).toBeNull();
  });

  it('GIVEN the primary with a read replica WHEN fencing twice THEN its groups are swapped for the deny-all group and it is rebooted once; it is never stopped', async () => {
    const { activities, rds, primary } = setup();

    const first = await activities.fenceDatabase(portal);
    const second = await activities.fenceDatabase(portal);

    expect(first).toMatchObject({
      changed: true,
      facts: {
        fenceSecurityGroup: 'sg-drctl-fence-deny-all-us-east-1',
        previousSecurityGroups: 'sg-default-us-east-1',
      },
    });
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    expect(primary.tags['drctl:fence']).toMatch(/^fence=\S+ sg=sg-default-us-east-1$/);
    expect(second.changed).toBe(false);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    expect(rds.state.tagWrites).toEqual(['patient-portal-primary drctl:fence']);
    expect(rds.state.stops).toEqual([]);
  });

  it('GIVEN the groups the plan read, recorded by the run WHEN fencing THEN the groups are swapped and the primary rebooted with no tag written; the undo puts the recorded groups back', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    expect(planned?.undoDetail).toEqual({ previousGroups: ['sg-default-us-east-1'] });

    const fenced = await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(fenced).toMatchObject({
      changed: true,
      facts: { previousSecurityGroups: 'sg-default-us-east-1' },
    });
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    expect(rds.state.tagWrites).toEqual([]);
    expect(primary.tags['drctl:fence']).toBeUndefined();

    const undone = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undone).toMatchObject({ changed: true });
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  /** The fence's RDS calls in order, and the primary's groups as each reboot found them. */
  function recordingFence(primaryGroupChangePolls: number, primaryBusyAfterGroupChangePolls = 0) {
    const { rds, primary } = FakeRds.portalPair();
    primary.groupChangePolls = primaryGroupChangePolls;
    primary.busyAfterGroupChangePolls = primaryBusyAfterGroupChangePolls;
    const calls: string[] = [];
    const groupsAtReboot: string[][] = [];
    const recorded = new Proxy(rds, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          if (property === 'rebootInstance')
            groupsAtReboot.push(
              primary.securityGroups.map((id) => `${id} ${primary.groupStatuses?.[id] ?? 'active'}`),
            );
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const activities = createDatabaseActivities({
      postgres: new FakePostgres(),
      rds: recorded,
      lagMetrics: new FakeLagMetrics(),
      poll: fastPoll,
    });
    const betweenSwapAndReboot = () =>
      calls.slice(calls.indexOf('setInstanceSecurityGroups') + 1, calls.indexOf('rebootInstance'));
    return { activities, rds, primary, calls, groupsAtReboot, betweenSwapAndReboot };
  }

  it('GIVEN RDS answers the swap with the fence group in place WHEN fencing THEN it reboots without reading the instance again', async () => {
    // A describe after the swap showed what the answer showed: in an evacuation it was one more call of the
    // failing region's RDS budget per round of fences.
    const { activities, groupsAtReboot, betweenSwapAndReboot } = recordingFence(0);
    const [planned] = await activities.planFence(portal);

    await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(betweenSwapAndReboot()).toEqual([]);
    expect(groupsAtReboot).toEqual([['sg-drctl-fence-deny-all-us-east-1 active']]);
  });

  it('GIVEN RDS still applying the swap when it answers WHEN fencing THEN it reads the instance until the fence group alone is active, and only then reboots', async () => {
    const { activities, groupsAtReboot, betweenSwapAndReboot } = recordingFence(3);
    const [planned] = await activities.planFence(portal);

    await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(betweenSwapAndReboot()).toEqual(['describeInstance', 'describeInstance', 'describeInstance']);
    expect(groupsAtReboot).toEqual([['sg-drctl-fence-deny-all-us-east-1 active']]);
  });

  it('GIVEN RDS answers the swap as applied but is still busy with it WHEN the fence reboots THEN the refused reboot waits for the instance to be available and reboots once', async () => {
    // Rebooting straight after the answer, a reboot RDS refused (the instance `modifying`) failed the fence.
    const { activities, rds, primary, calls } = recordingFence(0, 2);
    const [planned] = await activities.planFence(portal);

    const fenced = await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(fenced.changed).toBe(true);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    expect(calls.filter((c) => c === 'rebootInstance')).toHaveLength(2); // the refused one, then the one that went
    expect([primary.status, primary.securityGroups]).toEqual([
      'available',
      ['sg-drctl-fence-deny-all-us-east-1'],
    ]);
  });

  it('GIVEN RDS still applying the restored groups when it answers WHEN undoing a fence THEN the undo reads the instance until they are active', async () => {
    const { activities, primary } = recordingFence(0);
    const [planned] = await activities.planFence(portal);
    await activities.fenceDatabase(portal, planned?.undoDetail);
    primary.groupChangePolls = 3;

    const undone = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undone.changed).toBe(true);
    expect([primary.securityGroups, primary.groupStatuses]).toEqual([['sg-default-us-east-1'], undefined]);
  });

  it('GIVEN a recorded fence that swapped the groups and died before its reboot WHEN the retry runs THEN it reboots and reports the groups the run recorded', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];

    const retry: StepOutcome<unknown> = await new MockActivityEnvironment({ attempt: 2 }).run(() =>
      activities.fenceDatabase(portal, planned?.undoDetail),
    );

    expect(retry).toMatchObject({ changed: true, facts: { previousSecurityGroups: 'sg-default-us-east-1' } });
    expect(retry.facts.fencedByAnother).toBeUndefined();
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    expect(rds.state.tagWrites).toEqual([]);
  });

  /** The next execution of the fence step of run `run-1` of `failover-portal` (activity 9; the earlier one was 5). */
  const nextExecution = () =>
    new MockActivityEnvironment({
      workflowExecution: { workflowId: 'failover-portal', runId: 'run-1' },
      activityId: '9',
    });

  it('GIVEN an earlier execution of the same fence (same run, another activity: an operator’s retry, a follow-up’s next round) that tagged and swapped the groups and failed before its reboot WHEN the next execution fences THEN it reboots, the fence stays that execution’s, and its undo lifts it', async () => {
    // Before: "already fenced (by failover-portal/5)", no reboot: the sessions open before the swap went on
    // writing to the old primary, and the step said another fence was in place.
    const { activities, rds, primary } = setup();
    tagFence(primary, {
      fenceId: 'failover-portal/5',
      previousGroups: ['sg-default-us-east-1'],
      run: 'run-1',
    });
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];

    const fenced: StepOutcome<unknown> = await nextExecution().run(() => activities.fenceDatabase(portal));

    expect(fenced).toMatchObject({ changed: true, facts: { fencedBy: 'failover-portal/5' } });
    expect(fenced.facts.fencedByAnother).toBeUndefined();
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);

    const undone = await activities.unfenceDatabase(portal, (fenced.compensation as FenceUndo).detail);

    expect(undone.changed).toBe(true);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
    expect(primary.tags['drctl:fence']).toBeUndefined();
  });

  it('GIVEN a fence follow-up round that swapped the groups and failed before its reboot, the last round of its run WHEN the first round after its continue-as-new (a new run) fences THEN it finishes that fence: the reboot, and the fence is the follow-up’s (before: "already fenced" by another, no reboot)', async () => {
    const { activities, rds, primary } = setup();
    const workflowId = 'fence-follow-up-portal-db';
    tagFence(primary, {
      fenceId: `${workflowId}/400`,
      previousGroups: ['sg-default-us-east-1'],
      run: 'first-run',
    });
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];
    const firstRoundOfNextRun = new MockActivityEnvironment({
      workflowExecution: { workflowId, runId: 'second-run' },
      activityId: '1',
    });

    const fenced: StepOutcome<unknown> = await firstRoundOfNextRun.run(() =>
      activities.fenceDatabase({ ...portal, fenceRun: 'first-run' }),
    );

    expect(fenced).toMatchObject({ changed: true, facts: { fencedBy: `${workflowId}/400` } });
    expect(fenced.facts.fencedByAnother).toBeUndefined();
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
  });

  it('GIVEN someone modified the primary a moment before (it shows modifying) WHEN fencing THEN the fence waits until it is available and swaps its groups, and the undo puts them back (before: the step failed InvalidDBInstanceState)', async () => {
    const { activities, rds, primary } = setup();
    primary.busyAfterGroupChangePolls = 2;
    await rds.setInstanceSecurityGroups('us-east-1', 'patient-portal-primary', ['sg-default-us-east-1']);
    primary.busyAfterGroupChangePolls = 0;
    expect(primary.status).toBe('modifying');

    const fenced: StepOutcome<unknown> = await activities.fenceDatabase(portal);

    expect(fenced.changed).toBe(true);
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    await activities.unfenceDatabase(portal, (fenced.compensation as FenceUndo).detail);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  it('GIVEN an earlier failover’s fence in place, whose fence step had this step’s activity id (ids start at 1 in every run, and a runbook’s runs share one workflow id) WHEN this run fences, and undoes THEN that fence is not taken for this one: no reboot, no undo, and an undo naming that id leaves it (before: rebooted, and its undo lifted the earlier fence)', async () => {
    const { activities, rds, primary } = setup();
    tagFence(primary, {
      fenceId: 'failover-portal/9',
      previousGroups: ['sg-default-us-east-1'],
      run: 'run-0',
    });
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];

    const fenced: StepOutcome<unknown> = await nextExecution().run(() => activities.fenceDatabase(portal));
    const undone: StepOutcome<unknown> = await nextExecution().run(() =>
      activities.unfenceDatabase(portal, { fenceId: 'failover-portal/9' }),
    );

    expect(fenced).toMatchObject({ changed: false, facts: { fencedByAnother: true } });
    expect(fenced.compensation).toBeUndefined();
    expect(rds.state.reboots).toEqual([]);
    expect(undone.changed).toBe(false);
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
  });

  it('GIVEN a primary in a state that needs a person (incompatible-parameters) WHEN fencing THEN the step fails at once, naming the state (it does not wait for a change that will not come)', async () => {
    const { activities, rds, primary } = setup();
    primary.status = 'incompatible-parameters';

    const failure = await failureOf(activities.fenceDatabase(portal));

    expect(failure.message).toMatch(/incompatible-parameters/);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
    expect(rds.state.reboots).toEqual([]);
  });

  it('GIVEN a fence id far longer than a tag holds and 16 security groups WHEN fencing with no record THEN the tags RDS accepts (≤ 256 characters each) record every group, and the undo puts all 16 back and removes every fence tag', async () => {
    // Before: one tag `fence=<whole id> sg=<16 groups>`; RDS refuses a value over 256 characters, so the fence failed
    // before its swap (the fake refuses it as RDS does).
    const { activities, rds, primary } = setup();
    const groups = manyGroups(rds, 16);
    primary.securityGroups = [...groups];
    const step = new MockActivityEnvironment({
      workflowExecution: { workflowId: LONG_WORKFLOW_ID, runId: '9b2f4c1e-6a41-4f8e-9d55-0c3f1b7a2e10' },
      activityId: '12',
    });

    const fenced: StepOutcome<unknown> = await step.run(() => activities.fenceDatabase(portal));

    expect(fenced).toMatchObject({ changed: true });
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    const fenceTags = Object.keys(primary.tags).filter((key) => key.startsWith('drctl:fence'));
    expect(fenceTags.length).toBeGreaterThan(1);
    expect(Math.max(...fenceTags.map((key) => primary.tags[key]!.length))).toBeLessThanOrEqual(256);

    const undone = await activities.unfenceDatabase(portal, (fenced.compensation as FenceUndo).detail);

    expect(undone.changed).toBe(true);
    expect(primary.securityGroups).toEqual(groups);
    expect(Object.keys(primary.tags).filter((key) => key.startsWith('drctl:fence'))).toEqual([]);
  });

  it('GIVEN a primary carrying 50 tags (RDS allows 50) WHEN fencing with no record THEN it is refused before anything changes, naming the count and what to do (before: the fence failed in AddTagsToResource, with an error that said nothing of the tags)', async () => {
    const { activities, rds, primary } = setup();
    for (let i = 1; i <= 50; i++) primary.tags[`team:cost-centre-${i}`] = `cc-${i}`;
    const step = new MockActivityEnvironment({
      workflowExecution: { workflowId: 'drill-portal', runId: '9b2f4c1e-6a41-4f8e-9d55-0c3f1b7a2e10' },
      activityId: '4',
    });

    const failure = await failureOf(step.run(() => activities.fenceDatabase(portal)));

    expect(failure.message).toMatch(/carries 50 tag\(s\).*RDS allows 50 per instance.*remove 1 tag\(s\)/);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
    expect(Object.keys(primary.tags)).toHaveLength(50);
    expect(rds.state.reboots).toEqual([]);
  });

  it('GIVEN a primary carrying 49 tags WHEN fencing with no record THEN its fence tag is the 50th, and the undo removes it', async () => {
    const { activities, primary } = setup();
    for (let i = 1; i <= 49; i++) primary.tags[`team:cost-centre-${i}`] = `cc-${i}`;
    const step = new MockActivityEnvironment({
      workflowExecution: { workflowId: 'drill-portal', runId: '9b2f4c1e-6a41-4f8e-9d55-0c3f1b7a2e10' },
      activityId: '4',
    });

    const fenced: StepOutcome<unknown> = await step.run(() => activities.fenceDatabase(portal));

    expect(fenced).toMatchObject({ changed: true });
    expect(Object.keys(primary.tags)).toHaveLength(50);
    await step.run(() => activities.unfenceDatabase(portal, (fenced.compensation as FenceUndo).detail));
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
    expect(Object.keys(primary.tags)).toHaveLength(49);
  });

  it('GIVEN an earlier execution of a fence whose id the tag shortened, that swapped the groups and failed before its reboot WHEN the next execution of the run fences THEN it finishes that fence (the reboot) and its undo lifts it', async () => {
    const { activities, rds, primary } = setup();
    const runId = '9b2f4c1e-6a41-4f8e-9d55-0c3f1b7a2e10';
    tagFence(primary, {
      fenceId: `${LONG_WORKFLOW_ID}/5`,
      previousGroups: ['sg-default-us-east-1'],
      run: runId,
    });
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];
    const next = new MockActivityEnvironment({
      workflowExecution: { workflowId: LONG_WORKFLOW_ID, runId },
      activityId: '9',
    });

    const fenced: StepOutcome<unknown> = await next.run(() => activities.fenceDatabase(portal));

    expect(fenced).toMatchObject({ changed: true });
    expect(fenced.facts.fencedByAnother).toBeUndefined();
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    const undone = await activities.unfenceDatabase(portal, (fenced.compensation as FenceUndo).detail);
    expect(undone.changed).toBe(true);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  it('GIVEN a fence whose groups go on in a numbered tag that someone removed WHEN undoing THEN it refuses, names the missing tag, and puts back no group (half the groups would cut clients off)', async () => {
    const { activities, rds, primary } = setup();
    const groups = manyGroups(rds, 16);
    tagFence(primary, { fenceId: `${LONG_WORKFLOW_ID}/5`, previousGroups: groups });
    delete primary.tags['drctl:fence:2'];
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];

    await expect(activities.unfenceDatabase(portal, { fenceId: `${LONG_WORKFLOW_ID}/5` })).rejects.toThrow(
      /drctl:fence:2.*missing/,
    );
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
  });

  it.each([
    ['an earlier failover of the same runbook (the same workflow id, its lock; another run)', 'run-0'],
    ['a fence from before tags named their run', undefined],
  ])(
    'GIVEN the fence in place of %s WHEN fencing THEN that fence is not taken for this one: nothing changes, and the undo is not this run’s',
    async (_, run) => {
      // Taken for this run's, a rollback of this run would have lifted a fence an earlier failover left in place.
      const { activities, rds, primary } = setup();
      tagFence(primary, {
        fenceId: 'failover-portal/5',
        previousGroups: ['sg-default-us-east-1'],
        ...(run === undefined ? {} : { run }),
      });
      primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];

      const fenced: StepOutcome<unknown> = await nextExecution().run(() => activities.fenceDatabase(portal));

      expect(fenced).toMatchObject({
        changed: false,
        facts: { fencedByAnother: true, fencedBy: 'failover-portal/5' },
      });
      expect(fenced.compensation).toBeUndefined();
      expect(rds.state.reboots).toEqual([]);
    },
  );

  it('GIVEN an earlier execution of the same fence that tagged the instance but never sent its swap, and groups changed since WHEN the next execution fences THEN its own tag records the groups as they are now, and the undo restores those', async () => {
    const { activities, rds, primary } = setup();
    const added = rds.addSecurityGroup('us-east-1', 'added-after-the-first-execution', 1).id;
    tagFence(primary, {
      fenceId: 'failover-portal/5',
      previousGroups: ['sg-default-us-east-1'],
      run: 'run-1',
    });
    primary.securityGroups = ['sg-default-us-east-1', added];

    const fenced: StepOutcome<unknown> = await nextExecution().run(() => activities.fenceDatabase(portal));

    expect(fenced).toMatchObject({ changed: true, facts: { fencedBy: 'failover-portal/9' } });
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    await activities.unfenceDatabase(portal, (fenced.compensation as FenceUndo).detail);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1', added]);
  });

  it('GIVEN someone fenced the primary after the plan read it WHEN the first attempt fences THEN it changes nothing and says the fence is not this run’s', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];

    const fenced = await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(fenced).toMatchObject({ changed: false, facts: { fencedByAnother: true } });
    expect(rds.state.reboots).toEqual([]);
  });

  it('GIVEN the tag of another fence that never swapped the groups (it failed first, or was lifted by hand) WHEN fencing THEN this run fences the primary and its undo restores the groups (before: "already fenced", the primary still reachable)', async () => {
    const { activities, rds, primary } = setup();
    tagFence(primary, {
      fenceId: 'fence-follow-up-portal/3',
      previousGroups: ['sg-default-us-east-1'],
    });
    const [planned] = await activities.planFence(portal);
    expect(planned).toMatchObject({ willChange: true });

    const fenced = await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(fenced).toMatchObject({
      changed: true,
      facts: { previousSecurityGroups: 'sg-default-us-east-1' },
    });
    expect(fenced.facts.fencedByAnother).toBeUndefined();
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);

    const undone = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undone).toMatchObject({ changed: true });
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  it("GIVEN another fence whose swap is still being applied (the fence group beside the old one, its tag) WHEN fencing THEN it leaves that fence its own and undo: nothing changed, the tag stays the other fence's", async () => {
    const { activities, rds, primary } = setup();
    tagFence(primary, { fenceId: 'other/1', previousGroups: ['sg-default-us-east-1'] });
    const tag = primary.tags['drctl:fence'];
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1', 'sg-default-us-east-1'];

    const fenced = await activities.fenceDatabase(portal);

    expect(fenced).toMatchObject({ changed: false, facts: { fencedByAnother: true, fencedBy: 'other/1' } });
    expect(fenced.summary).toMatch(/is being fenced \(by other\/1\)/);
    expect(primary.tags['drctl:fence']).toBe(tag);
    expect(rds.state.reboots).toEqual([]);
  });

  it('GIVEN another fence in place (only the fence group, its tag) WHEN fencing THEN it changes nothing and names that fence', async () => {
    const { activities, rds, primary } = setup();
    tagFence(primary, {
      fenceId: 'other/1',
      previousGroups: ['sg-default-us-east-1'],
    });
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];
    const [planned] = await activities.planFence(portal);
    expect(planned).toMatchObject({ willChange: false });

    const fenced = await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(fenced).toMatchObject({ changed: false, facts: { fencedByAnother: true, fencedBy: 'other/1' } });
    expect(rds.state.reboots).toEqual([]);
  });

  it('GIVEN groups that changed between the plan and the fence WHEN fencing THEN a tag records the groups the swap replaced, and the undo restores those, not the stale record', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    const added = rds.addSecurityGroup('us-east-1', 'added-after-the-plan', 1).id;
    primary.securityGroups = ['sg-default-us-east-1', added];

    await activities.fenceDatabase(portal, planned?.undoDetail);
    expect(rds.state.tagWrites).toEqual(['patient-portal-primary drctl:fence']);
    await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(primary.securityGroups).toEqual(['sg-default-us-east-1', added]);
    expect(primary.tags['drctl:fence']).toBeUndefined();
  });

  it('GIVEN a recorded fence whose groups someone changed since WHEN undoing THEN the instance is left as they set it, and the outcome says so', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    await activities.fenceDatabase(portal, planned?.undoDetail);
    primary.securityGroups = [rds.addSecurityGroup('us-east-1', 'set-by-hand', 1).id];

    const undone = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undone).toMatchObject({ changed: false });
    expect(undone.summary).toMatch(/someone changed it since the fence, left as it is/);
    expect(primary.securityGroups).toEqual(['sg-set-by-hand-us-east-1']);
  });

  it('GIVEN slow EC2 reads WHEN fencing THEN the primary’s groups and the fence group are read at once, and the fence is in place', async () => {
    const { rds, primary } = FakeRds.portalPair();
    const inFlight = { now: 0, most: 0 };
    const activities = createDatabaseActivities({
      postgres: new FakePostgres(),
      rds: slowPort(rds, inFlight).port,
      lagMetrics: new FakeLagMetrics(),
      poll: fastPoll,
    });

    await activities.fenceDatabase(portal);

    // The describe, then the two group reads together, then the swap and the reboot, each alone.
    expect(inFlight.most).toBe(2);
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
  });

  it('GIVEN the fence group’s read failing at once WHEN fencing THEN the fence fails only once the primary’s slower group read has answered, changing nothing', async () => {
    const { rds, primary } = FakeRds.portalPair();
    let ownGroupsAnswered = false;
    const ec2Fails = new Proxy(rds, {
      get: (target, property, receiver) =>
        property === 'findSecurityGroups'
          ? async (region: string, query: { ids?: string[]; name?: string }) => {
              if (query.name !== undefined) throw new Error('RequestLimitExceeded: slow down');
              await new Promise((resolve) => setTimeout(resolve, 100));
              ownGroupsAnswered = true;
              return target.findSecurityGroups(region, query);
            }
          : Reflect.get(target, property, receiver),
    });
    const activities = createDatabaseActivities({
      postgres: new FakePostgres(),
      rds: ec2Fails,
      lagMetrics: new FakeLagMetrics(),
      poll: fastPoll,
    });

    const failed = await activities.fenceDatabase(portal).catch((error: unknown) => error);

    expect(String(failed)).toContain('RequestLimitExceeded');
    expect(ownGroupsAnswered).toBe(true);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  it('GIVEN a group of the fence group’s name in another VPC WHEN fencing THEN the one in the primary’s VPC is used', async () => {
    const { rds, primary } = FakeRds.portalPair();
    // Listed first, with a rule: taking the first group of that name would refuse the fence.
    const own = rds.state.securityGroups.get('sg-drctl-fence-deny-all-us-east-1');
    if (own === undefined) throw new Error('the portal pair has no fence group');
    rds.state.securityGroups.delete(own.id);
    rds.addSecurityGroup('us-east-1', 'drctl-fence-deny-all', 2, 'vpc-elsewhere');
    rds.state.securityGroups.set(own.id, own);
    const activities = createDatabaseActivities({
      postgres: new FakePostgres(),
      rds,
      lagMetrics: new FakeLagMetrics(),
      poll: fastPoll,
    });

    await activities.fenceDatabase(portal);

    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
  });

  it('GIVEN a recorded fence whose fence group got an inbound rule since WHEN undoing THEN the recorded groups go back all the same (the undo takes that group off, it does not judge it)', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    await activities.fenceDatabase(portal, planned?.undoDetail);
    const fenceGroup = rds.state.securityGroups.get('sg-drctl-fence-deny-all-us-east-1');
    if (fenceGroup) fenceGroup.inboundRules = 1;

    const undone = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undone.changed).toBe(true);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  it('GIVEN a recorded fence whose groups someone changed and whose fence group they then deleted WHEN undoing THEN the instance is left as they set it, and the outcome says so', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    await activities.fenceDatabase(portal, planned?.undoDetail);
    primary.securityGroups = [rds.addSecurityGroup('us-east-1', 'set-by-hand', 1).id];
    // AWS deletes a group only once no instance carries it.
    rds.state.securityGroups.delete('sg-drctl-fence-deny-all-us-east-1');

    const undone = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undone).toMatchObject({ changed: false });
    expect(undone.summary).toMatch(
      /the fence group no longer exists\): someone changed it since the fence, left as it is/,
    );
    expect(primary.securityGroups).toEqual(['sg-set-by-hand-us-east-1']);
  });

  it('GIVEN an abort right after the swap was sent, AWS still applying it WHEN the recorded undo runs THEN it sends the recorded groups again and waits for them', async () => {
    const { activities, primary } = setup();
    const [planned] = await activities.planFence(portal);
    await activities.fenceDatabase(portal, planned?.undoDetail);
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1', 'sg-default-us-east-1'];
    primary.groupStatuses = {
      'sg-drctl-fence-deny-all-us-east-1': 'adding',
      'sg-default-us-east-1': 'removing',
    };

    const undone = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undone.changed).toBe(true);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
    expect(primary.groupStatuses).toBeUndefined();
  });

  it('GIVEN a retry while the swap it sent is still being applied WHEN the fence runs again THEN it finishes the fence from the record: no tag, the recorded groups reported', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1', 'sg-default-us-east-1'];
    primary.groupStatuses = {
      'sg-drctl-fence-deny-all-us-east-1': 'adding',
      'sg-default-us-east-1': 'removing',
    };

    const retry: StepOutcome<unknown> = await new MockActivityEnvironment({ attempt: 2 }).run(() =>
      activities.fenceDatabase(portal, planned?.undoDetail),
    );

    expect(retry).toMatchObject({ changed: true, facts: { previousSecurityGroups: 'sg-default-us-east-1' } });
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    expect(rds.state.tagWrites).toEqual([]);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
  });

  it('GIVEN an operator’s retry of the step (a new activity, attempt 1) after its first execution swapped the groups WHEN the fence runs with that execution’s record THEN it finishes that fence and reboots', async () => {
    const { activities, rds, primary } = setup();
    const [planned] = await activities.planFence(portal);
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];

    const retried = await activities.fenceDatabase(portal, {
      ...planned?.undoDetail,
      byEarlierExecution: true,
    });

    expect(retried).toMatchObject({
      changed: true,
      facts: { previousSecurityGroups: 'sg-default-us-east-1' },
    });
    expect(retried.facts.fencedByAnother).toBeUndefined();
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
  });

  it('GIVEN a fence attempt that sent its reboot and died WHEN the retry resumes from its last heartbeat THEN it does not reboot again, and the marker was written once', async () => {
    const { rds, primary } = setup();
    const first = recordingAttempt();
    await fencePortalPrimary(rds, first.env);

    const retry = await fencePortalPrimary(
      rds,
      new MockActivityEnvironment({ attempt: 2, heartbeatDetails: first.beats.at(-1) }),
    );

    expect(retry).toMatchObject({ changed: true, previousGroups: ['sg-default-us-east-1'] });
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    expect(rds.state.tagWrites).toEqual(['patient-portal-primary drctl:fence']);
    expect(primary.tags['drctl:fence']).toBe(
      'fence=run/7 sg=sg-default-us-east-1 run=00000000-0000-0000-0000-000000000000', // MockActivityEnvironment's run
    );
  });

  it('GIVEN a fence attempt whose worker died after it sent the reboot, before a heartbeat said so WHEN the retry finds the instance still rebooting with only the fence group THEN it waits for that reboot and sends none', async () => {
    const { rds, primary } = setup();
    primary.rebootingPolls = 3;
    const dyingAfterReboot = new Proxy(rds, {
      get(target, property, receiver) {
        if (property !== 'rebootInstance') return Reflect.get(target, property, receiver);
        return async (region: string, instanceId: string) => {
          await target.rebootInstance(region, instanceId);
          throw new Error('worker SIGKILLed');
        };
      },
    });
    const first = recordingAttempt();
    await expect(fencePortalPrimary(rds, first.env, dyingAfterReboot)).rejects.toThrow('worker SIGKILLed');
    expect(primary.status).toBe('rebooting');

    const retry = await fencePortalPrimary(
      rds,
      new MockActivityEnvironment({ attempt: 2, heartbeatDetails: first.beats.at(-1) }),
    );

    expect(retry).toMatchObject({ changed: true, previousGroups: ['sg-default-us-east-1'] });
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    expect(primary.status).toBe('available');
    expect(primary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
  });

  it('GIVEN a fence that crashed after the swap, before the reboot WHEN the same fence runs again THEN it reboots and reports the swap it made', async () => {
    const { rds, primary } = setup();
    primary.tags['drctl:fence'] = 'fence=run/7 sg=sg-default-us-east-1';
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];
    const instance = (await rds.describeInstance('us-east-1', 'patient-portal-primary'))!;

    const retry = await fenceWithSecurityGroup(
      rds,
      'us-east-1',
      instance,
      'sg-drctl-fence-deny-all-us-east-1',
      'run/7',
      fastPoll,
    );

    expect(retry).toMatchObject({ changed: true, previousGroups: ['sg-default-us-east-1'] });
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
    expect(primary.tags['drctl:fence']).toBe('fence=run/7 sg=sg-default-us-east-1');
  });

  it('GIVEN a marker written by an older drctl after its reboot (rebooted=yes) WHEN the same fence runs again THEN it does not reboot', async () => {
    const { rds, primary } = setup();
    primary.tags['drctl:fence'] = 'fence=run/7 sg=sg-default-us-east-1 rebooted=yes';
    primary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];
    const instance = (await rds.describeInstance('us-east-1', 'patient-portal-primary'))!;

    const retry = await fenceWithSecurityGroup(
      rds,
      'us-east-1',
      instance,
      'sg-drctl-fence-deny-all-us-east-1',
      'run/7',
      fastPoll,
    );

    expect(retry).toMatchObject({ changed: true, previousGroups: ['sg-default-us-east-1'] });
    expect(rds.state.reboots).toEqual([]);
  });

  it('GIVEN a fence group with inbound rules WHEN fencing THEN it is refused and nothing changes', async () => {
    const { activities, rds, primary } = setup();
    rds.state.securityGroups.get('sg-drctl-fence-deny-all-us-east-1')!.inboundRules = 2;

    const failure = await failureOf(activities.fenceDatabase(portal));

    expect(failure).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(failure.message).toMatch(/has 2 inbound rule\(s\)/);
    expect(primary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  it("GIVEN the primary's region is down WHEN fencing an unplanned run THEN the outcome says the region is unreachable; a planned run fails as PrimaryUnreachable", async () => {
    const { activities, rds } = setup();
    rds.state.regionsDown.add('us-east-1');

    const unplanned = await activities.fenceDatabase(portal);
    const planned = await failureOf(activities.fenceDatabase({ ...portal, mode: 'planned' }));

    expect(unplanned).toMatchObject({
      changed: false,
      facts: { primaryReachable: false, unreachable: 'region' },
      summary: expect.stringMatching(/region us-east-1 unreachable/),
    });
    expect(planned).toMatchObject({ type: 'PrimaryUnreachable', nonRetryable: true });
  });

  it("GIVEN the primary's region is down WHEN checking THEN an unplanned run passes the primary check, naming the outage; a planned one fails it", async () => {
    const { activities, rds, lag } = setup();
    lag.set('ReplicaLag', 'patient-portal-replica', 'us-west-2', 0);
    rds.state.regionsDown.add('us-east-1');

    const unplanned = await activities.checkDatabase(portal);
    const planned = await activities.checkDatabase({ ...portal, mode: 'planned' });

    expect(unplanned.filter((r) => !r.ok)).toEqual([]);
    expect(unplanned.find((r) => r.check === 'database portal: primary')?.message).toMatch(
      /region us-east-1 unreachable/,
    );
    expect(planned.find((r) => r.check === 'database portal: primary')?.ok).toBe(false);
  });

  it("GIVEN fence 'none' WHEN fencing THEN nothing is called", async () => {
    const { activities, rds } = setup();
    const target = { ...portal.target, fence: 'none' } as DatabaseInput['target'];

    const outcome = await activities.fenceDatabase({ name: 'portal', target });

    expect(outcome.changed).toBe(false);
    expect(rds.state.reboots).toEqual([]);
  });

  it('GIVEN access is denied WHEN promoting THEN AccessDenied stays permanent', async () => {
    const { activities, rds } = setup();
    rds.failWith = permanentFailure('AccessDenied', 'rds:DescribeDBInstances denied');

    expect(await failureOf(activities.promoteDatabase(portal))).toMatchObject({
      type: 'AccessDenied',
      nonRetryable: true,
    });
  });

  it('GIVEN the pair WHEN planning THEN the security-group fence and promotion are planned and nothing changes', async () => {
    const { activities, rds } = setup();

    const fence = await activities.planFence(portal);
    const promote = await activities.planPromote(portal);

    expect(fence).toEqual([
      expect.objectContaining({
        desired: 'only security group drctl-fence-deny-all (no inbound rules), rebooted to end open sessions',
        willChange: true,
      }),
    ]);
    expect(promote.changes[0]?.willChange).toBe(true);
    expect(promote.writableEndpoint).toBe('patient-portal-replica.abc.us-west-2.rds.amazonaws.com');
    expect(rds.state.promotions).toEqual([]);
    expect(rds.state.reboots).toEqual([]);
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

  it('GIVEN a failover already under way (an earlier attempt) WHEN promoting again THEN it waits for it instead of failing', async () => {
    const { activities, rds, cluster } = setup();
    cluster.failoverPolls = 3;
    await rds.failoverCluster('us-east-1', 'billing', 'billing-2');
    expect(cluster.status).toBe('failing-over');

    const retry = await activities.promoteDatabase(aurora);

    expect(retry).toMatchObject({
      changed: false,
      summary: expect.stringMatching(/after the failover that was under way/),
    });
    expect(rds.state.failovers).toEqual(['billing->billing-2']);
  });

  it('GIVEN no AuroraReplicaLag datapoint WHEN checking THEN the lag check fails', async () => {
    const { activities, lag } = setup();
    lag.set('AuroraReplicaLag', 'billing', 'us-east-1', null);

    const results = await activities.checkDatabase(aurora);

    expect(results.find((r) => r.check === 'database billing: replication lag')?.ok).toBe(false);
  });
});

describe('the RDS fence tags', () => {
  it.each([
    ['a short id', 'failover-portal/7'],
    ['an id of 96 characters', `failover-${'p'.repeat(85)}/7`],
    ['an id of 1,000 characters', `${LONG_WORKFLOW_ID}/7`],
    ['an id of 200 letters outside the Basic Multilingual Plane, after one inside', `x${'𝔄'.repeat(200)}/7`],
  ])(
    'GIVEN %s, a run id, and 0 to 16 groups WHEN encoded THEN each tag RDS accepts, and decoded they name the fence, its run and every group in order',
    (_, fenceId) => {
      for (let count = 0; count <= 16; count++) {
        const previousGroups = Array.from({ length: count }, (_, i) => `sg-0${String(i).padStart(16, 'a')}`);
        const run = '9b2f4c1e-6a41-4f8e-9d55-0c3f1b7a2e10';
        const tags = encodeFenceTags({ fenceId, previousGroups, run });

        for (const [key, value] of Object.entries(tags)) {
          expect(key.length).toBeLessThanOrEqual(128);
          expect(value.length).toBeLessThanOrEqual(256);
          expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
        }
        const marker = decodeFenceTags(tags);
        expect(marker).toMatchObject({ previousGroups, run, complete: true });
        expect(sameFence(marker!, fenceId)).toBe(true);
        expect(sameFence(marker!, `${fenceId}0`)).toBe(false);
      }
    },
  );
});
