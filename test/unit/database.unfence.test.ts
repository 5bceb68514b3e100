import type { DatabaseInput } from '../../activities/contracts';
import { createDatabaseActivities } from '../fakes/database-activities';
import { POSTGRES_UNREACHABLE } from '../../activities/database/postgres-errors';
import { PermanentFailure } from '../../activities/failures';
import { FakePostgres } from '../fakes/fake-postgres';
import { FakeRds } from '../fakes/fake-rds';
import { failureOf } from './failure-of';
import type { FenceUndo } from '../../kinds/database-fence/definition';
import { aurora, ehr, fastPoll, portal } from './database-targets';

function setup() {
  const { pg, primary, replica } = FakePostgres.healthyPair();
  const { rds, primary: rdsPrimary } = FakeRds.portalPair();
  rds.addCluster({
    clusterId: 'billing',
    region: 'us-east-1',
    members: [
      { instanceId: 'billing-1', isWriter: true },
      { instanceId: 'billing-2', isWriter: false },
    ],
  });
  const activities = createDatabaseActivities({ postgres: pg, rds, poll: fastPoll });
  return { pg, primary, replica, rds, rdsPrimary, activities };
}

describe('unfenceDatabase (postgres)', () => {
  it("GIVEN a fenced primary WHEN unfencing with the fence's undo THEN login and read-only are restored and a new write is accepted", async () => {
    const { activities, pg, primary } = setup();
    const fence = await activities.fenceDatabase(ehr);
    expect(primary.readOnly).toBe(true);

    const outcome = await activities.unfenceDatabase(ehr, (fence.compensation as FenceUndo).detail);

    expect(outcome).toMatchObject({
      changed: true,
      summary: expect.stringMatching(
        /^unfenced 127\.0\.0\.2: login restored for ehr_app, read-only default reset/,
      ),
    });
    expect(primary.readOnly).toBe(false);
    expect(primary.roles.get('ehr_app')).toMatchObject({ canLogin: true, marker: null });
    expect(pg.state.unfences).toEqual(['ehr-primary']);
    expect(pg.state.calls.slice(-1)).toEqual(['writeTest ehr-primary']);
    expect(outcome.compensation).toBeUndefined();
  });

  it('GIVEN a role that could not log in before the fence WHEN unfencing THEN it still cannot', async () => {
    const { activities, primary } = setup();
    primary.roles.set('ehr_report', { canLogin: false, sessions: 0, marker: null });
    const input = {
      ...ehr,
      target: { ...ehr.target, applicationRoles: ['ehr_app', 'ehr_report'] },
    } as DatabaseInput;
    const fence = await activities.fenceDatabase(input);

    await activities.unfenceDatabase(input, (fence.compensation as FenceUndo).detail);

    expect(primary.roles.get('ehr_app')?.canLogin).toBe(true);
    expect(primary.roles.get('ehr_report')?.canLogin).toBe(false);
  });

  it("GIVEN a server fenced by another run WHEN unfencing with this run's undo THEN the other fence stays", async () => {
    const { activities, pg, primary } = setup();
    await pg.fence('ehr-primary', { applicationRoles: ['ehr_app'], fenceId: 'other-run/1' });

    const outcome = await activities.unfenceDatabase(ehr, { fenceId: 'this-run/3' });

    expect(outcome).toMatchObject({
      changed: false,
      summary: expect.stringMatching(/fenced by other-run\/1, left in place/),
    });
    expect(primary.roles.get('ehr_app')?.canLogin).toBe(false);
    expect(primary.readOnly).toBe(true);
  });

  it('GIVEN an unfenced primary WHEN unfencing twice THEN the second call changes nothing', async () => {
    const { activities, pg } = setup();
    await activities.fenceDatabase(ehr);
    await activities.unfenceDatabase(ehr);

    const second = await activities.unfenceDatabase(ehr);

    expect(second).toMatchObject({ changed: false, summary: expect.stringMatching(/carries no marker/) });
    expect(pg.state.unfences).toHaveLength(1);
  });

  it('GIVEN the old primary is unreachable WHEN unfencing THEN a retryable failure says it cannot be reached', async () => {
    const { activities, primary } = setup();
    primary.reachable = false;

    const failure = await failureOf(activities.unfenceDatabase(ehr));

    expect(failure.type).toBe(POSTGRES_UNREACHABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/127\.0\.0\.2.*unreachable: cannot unfence it/);
  });

  it('GIVEN the old primary is in recovery WHEN unfencing THEN nothing is changed', async () => {
    const { activities, pg, primary } = setup();
    primary.inRecovery = true;

    const outcome = await activities.unfenceDatabase(ehr);

    expect(outcome).toMatchObject({ changed: false, summary: expect.stringMatching(/in recovery/) });
    expect(pg.state.calls).not.toContain('unfence ehr-primary');
  });

  it('GIVEN a role setting keeps it read-only WHEN unfencing THEN the step fails permanently naming the cause', async () => {
    const { activities, pg } = setup();
    await activities.fenceDatabase(ehr);
    jest
      .spyOn(pg, 'writeTest')
      .mockResolvedValue({ accepted: false, refusal: '25006: read-only', serverAddress: '127.0.0.2' });

    const failure = await failureOf(activities.unfenceDatabase(ehr));

    expect(failure.type).toBe(PermanentFailure.InvalidState);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/still refuses writes.*ALTER ROLE\/DATABASE/);
  });
});

describe('compensation on fence and promote', () => {
  it('GIVEN a fence that changed something THEN its outcome carries database.unfence with the input', async () => {
    const { activities } = setup();

    const first = await activities.fenceDatabase(ehr);
    const second = await activities.fenceDatabase(ehr);

    expect(first.compensation).toEqual({
      database: ehr,
      detail: { fenceId: expect.stringMatching(/^direct-/) },
    });
    expect(second).toMatchObject({ changed: false });
    expect(second.compensation).toBeUndefined();
  });

  it('GIVEN an unreachable old primary WHEN fencing THEN nothing changed and there is nothing to undo', async () => {
    const { activities, primary } = setup();
    primary.reachable = false;

    const outcome = await activities.fenceDatabase(ehr);

    expect(outcome.changed).toBe(false);
    expect(outcome.compensation).toBeUndefined();
  });

  it('GIVEN a promotion THEN its outcome is marked irreversible, pointing at failback', async () => {
    const { activities } = setup();

    const outcome = await activities.promoteDatabase(ehr);

    expect(outcome.compensation).toEqual({
      kind: 'irreversible',
      reason: expect.stringMatching(/cannot be demoted in place.*drctl failback/),
    });
  });

  it('GIVEN an RDS primary fenced by its security groups THEN the outcome carries database.unfence with the fence id', async () => {
    const { activities } = setup();

    const outcome = await activities.fenceDatabase(portal);

    expect(outcome.compensation).toEqual({
      database: portal,
      detail: { fenceId: expect.stringMatching(/^direct-/) },
    });
  });
});

describe('unfenceDatabase (rds-instance)', () => {
  it('GIVEN a primary fenced by this run WHEN unfencing THEN its own groups are back and the tag is gone', async () => {
    const { activities, rdsPrimary } = setup();
    const fence = await activities.fenceDatabase(portal);
    expect(rdsPrimary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);

    const outcome = await activities.unfenceDatabase(portal, (fence.compensation as FenceUndo).detail);

    expect(outcome).toMatchObject({
      changed: true,
      facts: { restoredSecurityGroups: 'sg-default-us-east-1' },
    });
    expect(rdsPrimary.securityGroups).toEqual(['sg-default-us-east-1']);
    expect(rdsPrimary.tags['drctl:fence']).toBeUndefined();
  });

  it("GIVEN a primary fenced by another run WHEN unfencing with this run's undo THEN it stays fenced", async () => {
    const { activities, rdsPrimary } = setup();
    await activities.fenceDatabase(portal);

    const outcome = await activities.unfenceDatabase(portal, { fenceId: 'this-run/4' });

    expect(outcome).toMatchObject({
      changed: false,
      summary: expect.stringMatching(/not by this run: left fenced/),
    });
    expect(rdsPrimary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
  });

  it('GIVEN an unfenced primary WHEN unfencing THEN nothing is called', async () => {
    const { activities, rdsPrimary } = setup();

    const outcome = await activities.unfenceDatabase(portal);

    expect(outcome).toMatchObject({ changed: false, summary: expect.stringMatching(/no drctl:fence tag/) });
    expect(rdsPrimary.securityGroups).toEqual(['sg-default-us-east-1']);
  });

  it("GIVEN fence 'none' WHEN unfencing THEN nothing is called", async () => {
    const { activities, rdsPrimary } = setup();
    rdsPrimary.securityGroups = ['sg-drctl-fence-deny-all-us-east-1'];
    const target = { ...portal.target, fence: 'none' } as DatabaseInput['target'];

    const outcome = await activities.unfenceDatabase({ name: 'portal', target });

    expect(outcome.changed).toBe(false);
    expect(rdsPrimary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
  });

  it('GIVEN the primary is gone WHEN unfencing THEN the step fails permanently', async () => {
    const { activities, rds } = setup();
    rds.state.instances.delete('us-east-1/patient-portal-primary');

    const failure = await failureOf(activities.unfenceDatabase(portal));

    expect(failure.type).toBe(PermanentFailure.NotFound);
    expect(failure.nonRetryable).toBe(true);
  });
});

describe('unfenceDatabase (aurora-cluster)', () => {
  it('GIVEN an Aurora cluster WHEN unfencing THEN nothing changes', async () => {
    const { activities, rds } = setup();

    const outcome = await activities.unfenceDatabase(aurora);

    expect(outcome.changed).toBe(false);
    expect(rds.state.failovers).toEqual([]);
  });
});
