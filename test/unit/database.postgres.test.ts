import { MockActivityEnvironment } from '@temporalio/testing';
import type { DatabaseInput, StepOutcome } from '../../activities/contracts';
import { transientFailure } from '../../activities/failures';
import { POSTGRES_UNREACHABLE } from '../../activities/database/postgres-errors';
import { createDatabaseActivities } from '../fakes/database-activities';
import { FakePostgres } from '../fakes/fake-postgres';
import { FakeRds } from '../fakes/fake-rds';
import { failureOf } from './failure-of';
import { ehr as input, fastPoll } from './database-targets';
import type { PostgresPort } from '../../activities/database/postgres-port';
import type { FenceUndo } from '../../kinds/database-fence/definition';

function setup() {
  const { pg, primary, replica } = FakePostgres.healthyPair();
  const activities = createDatabaseActivities({ postgres: pg, rds: new FakeRds(), poll: fastPoll });
  return { pg, primary, replica, activities };
}

describe('checkDatabase (postgres)', () => {
  it('GIVEN a healthy streaming pair on an idle primary WHEN checking THEN every check passes and lag is measured from LSNs, not replay age', async () => {
    const { activities } = setup();

    const results = await activities.checkDatabase(input);

    expect(results.every((r) => r.ok)).toBe(true);
    const lag = results.find((r) => r.check === 'database ehr: replication lag');
    expect(lag?.message).toMatch(/^0ms ≤ maxLag 30s .*0 bytes behind/);
  });

  it('GIVEN the primary reports replay_lag above maxLag WHEN checking THEN the lag check fails and says what to do', async () => {
    const { activities, primary } = setup();
    primary.standbys = [
      {
        applicationName: 'walreceiver',
        clientAddr: '127.0.0.3',
        state: 'streaming',
        replayLsn: '0/2000000',
        replayBytesBehind: 16_777_216,
        replayLagMs: 45_000,
      },
    ];

    const results = await activities.checkDatabase(input);

    const lag = results.find((r) => r.check === 'database ehr: replication lag');
    expect(lag?.ok).toBe(false);
    expect(lag?.message).toMatch(/45s > maxLag 30s.*replay_lag.*wait for the replica to catch up/);
  });

  it('GIVEN the WAL receiver stopped while the primary answers WHEN checking THEN the streaming check fails', async () => {
    const { activities, replica } = setup();
    replica.walReceiverStatus = null;

    const results = await activities.checkDatabase(input);

    expect(results.find((r) => r.check === 'database ehr: WAL receiver streaming')).toMatchObject({
      ok: false,
    });
  });

  it('GIVEN the primary is down and everything received is replayed WHEN checking THEN it passes on replica-side figures and says so', async () => {
    const { activities, primary, replica } = setup();
    primary.reachable = false;
    replica.walReceiverStatus = null;

    const results = await activities.checkDatabase(input);

    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.find((r) => r.check === 'database ehr: primary')?.message).toMatch(
      /unreachable, treated as down/,
    );
    expect(results.find((r) => r.check === 'database ehr: replication lag')?.message).toMatch(
      /primary unreachable: replica-side only/,
    );
  });

  it('GIVEN the primary refuses the password and the WAL receiver is down WHEN checking THEN both fail (a refusal is not an outage)', async () => {
    const { activities, primary, replica } = setup();
    primary.badPassword = true;
    replica.walReceiverStatus = null;

    const results = await activities.checkDatabase(input);

    expect(results.find((r) => r.check === 'database ehr: primary')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/refused/),
    });
    expect(results.find((r) => r.check === 'database ehr: WAL receiver streaming')?.ok).toBe(false);
  });

  it('GIVEN the replica is unreachable WHEN checking THEN one failed check names the address', async () => {
    const { activities, replica } = setup();
    replica.reachable = false;

    const results = await activities.checkDatabase(input);

    expect(results).toEqual([
      expect.objectContaining({
        check: 'database ehr: replica reachable',
        ok: false,
        message: expect.stringMatching(/cannot reach 127\.0\.0\.3:5432/),
      }),
    ]);
  });

  it('GIVEN the replica is not in recovery WHEN checking THEN the standby check fails', async () => {
    const { activities, replica } = setup();
    replica.inRecovery = false;

    const results = await activities.checkDatabase(input);

    expect(results.find((r) => r.check === 'database ehr: replica is a standby')?.ok).toBe(false);
  });
});

describe('fenceDatabase (postgres)', () => {
  it('GIVEN a writable primary WHEN fencing twice THEN the application role cannot log in, sessions end, read-only is on, and the second run changes nothing', async () => {
    const { activities, pg, primary } = setup();

    const first = await activities.fenceDatabase(input);
    const second = await activities.fenceDatabase(input);

    expect(first).toMatchObject({
      changed: true,
      attempt: 1,
      facts: { terminatedSessions: 2, primaryReachable: true, loginRevoked: 'ehr_app', readOnlySet: true },
    });
    expect(primary.readOnly).toBe(true);
    expect(primary.roles.get('ehr_app')).toMatchObject({ canLogin: false, sessions: 0 });
    expect(second.changed).toBe(false);
    expect(second.summary).toMatch(/was already fenced/);
    expect(pg.state.fences).toEqual(['ehr-primary']);
    // Each call outside an activity is a fence of its own: the second found the first's in place, which its
    // step's recorded undo must not lift.
    expect(first.facts.fencedByAnother).toBeUndefined();
    expect(second.facts.fencedByAnother).toBe(true);
  });

  it('GIVEN an earlier failover’s fence in place, whose fence step had this step’s activity id (ids start at 1 in every run, and a runbook’s runs share one workflow id) WHEN this run fences THEN that fence is not taken for this one: it records no undo, so this run’s rollback cannot lift it (before: it did)', async () => {
    const { activities, primary } = setup();
    const step = (runId: string) =>
      new MockActivityEnvironment({
        workflowExecution: { workflowId: 'failover-ehr-db', runId },
        activityId: '9',
      });
    await step('run-0').run(() => activities.fenceDatabase(input));

    const later: StepOutcome<unknown> = await step('run-1').run(() => activities.fenceDatabase(input));

    expect(later).toMatchObject({ changed: false, facts: { fencedByAnother: true } });
    expect(later.compensation).toBeUndefined();
    expect(primary.roles.get('ehr_app')).toMatchObject({ canLogin: false });
  });

  it('GIVEN a fence lifted by hand that left its markers WHEN fencing again THEN what this call changed is not read as another fence (its undo stands)', async () => {
    const { activities, primary } = setup();
    await activities.fenceDatabase(input);
    const role = primary.roles.get('ehr_app');
    if (role) role.canLogin = true; // ALTER ROLE … LOGIN and the read-only default reset by hand; markers stay
    primary.readOnly = false;

    const again = await activities.fenceDatabase(input);

    expect(again.facts.fencedByAnother).toBeUndefined();
    expect(primary.roles.get('ehr_app')).toMatchObject({ canLogin: false });
    expect(primary.readOnly).toBe(true);
  });

  describe('a fence or its undo that waits long (a lock on the role catalog, sessions slow to end)', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    /** The pair, whose fence and undo each take 20 s, run in an activity that keeps its heartbeats. */
    function slowFenceInActivity(call: 'fence' | 'unfence') {
      const { pg, primary } = FakePostgres.healthyPair();
      const slow = new Proxy(pg, {
        get: (target, property, receiver) => {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (property !== call || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            await new Promise((resolve) => setTimeout(resolve, 20_000));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }) as PostgresPort;
      const activities = createDatabaseActivities({ postgres: slow, rds: new FakeRds(), poll: fastPoll });
      const env = new MockActivityEnvironment();
      const beats: unknown[] = [];
      env.on('heartbeat', (details: unknown) => beats.push(details));
      return { activities, env, beats, primary };
    }

    it('GIVEN a fence call that takes 20 s WHEN fencing THEN the activity heartbeats while it waits (before: none, so the 15 s heartbeat timeout started a second fence beside the first)', async () => {
      const { activities, env, beats, primary } = slowFenceInActivity('fence');

      const fencing: Promise<StepOutcome<unknown>> = env.run(() => activities.fenceDatabase(input));
      await jest.advanceTimersByTimeAsync(20_000);
      const fenced = await fencing;

      expect(fenced.changed).toBe(true);
      expect(primary.roles.get('ehr_app')).toMatchObject({ canLogin: false });
      expect(beats.length).toBeGreaterThanOrEqual(3);
      expect(beats[0]).toEqual({ waitingFor: expect.stringMatching(/^the fence of /) });
    });

    it('GIVEN an undo call that takes 20 s WHEN unfencing THEN the activity heartbeats while it waits', async () => {
      const { activities, env, beats, primary } = slowFenceInActivity('unfence');
      const fenced = await activities.fenceDatabase(input);

      const undoing: Promise<StepOutcome<unknown>> = env.run(() =>
        activities.unfenceDatabase(input, (fenced.compensation as FenceUndo).detail),
      );
      await jest.advanceTimersByTimeAsync(20_000);
      const undone = await undoing;

      expect(undone.changed).toBe(true);
      expect(primary.roles.get('ehr_app')).toMatchObject({ canLogin: true });
      expect(beats.length).toBeGreaterThanOrEqual(3);
      expect(beats[0]).toEqual({ waitingFor: expect.stringMatching(/^the undo of the fence of /) });
    });
  });

  it('GIVEN an application role that does not exist WHEN fencing THEN nothing changes and ConfigurationMissing names it', async () => {
    const { activities, primary } = setup();
    const target = { ...input.target, applicationRoles: ['ehr_app', 'ehr_ap'] } as DatabaseInput['target'];

    const failure = await failureOf(activities.fenceDatabase({ name: 'ehr', target }));

    expect(failure).toMatchObject({ type: 'ConfigurationMissing', nonRetryable: true });
    expect(failure.message).toMatch(/ehr_ap do not exist/);
    expect(primary.roles.get('ehr_app')).toMatchObject({ canLogin: true, marker: null });
    expect(primary.readOnly).toBe(false);
  });

  it('GIVEN the old primary is unreachable WHEN fencing an unplanned run THEN it succeeds unchanged and says the host is unreachable', async () => {
    const { activities, pg, primary } = setup();
    primary.reachable = false;

    const outcome = await activities.fenceDatabase(input);

    expect(outcome).toMatchObject({
      changed: false,
      facts: { primaryReachable: false, unreachable: 'host' },
    });
    expect(outcome.summary).toMatch(/unreachable: it could not be fenced/);
    expect(pg.state.fences).toEqual([]);
  });

  it('GIVEN the old primary is unreachable WHEN fencing a planned run THEN it fails as PrimaryUnreachable', async () => {
    const { activities, primary } = setup();
    primary.reachable = false;

    const failure = await failureOf(activities.fenceDatabase({ ...input, mode: 'planned' }));

    expect(failure).toMatchObject({ type: 'PrimaryUnreachable', nonRetryable: true });
    expect(failure.message).toMatch(/unplanned runbook/);
  });

  it('GIVEN a role setting defeats read-only WHEN fencing THEN it fails permanently as InvalidState', async () => {
    const { activities, primary } = setup();
    primary.ignoresReadOnly = true;

    const failure = await failureOf(activities.fenceDatabase(input));

    expect(failure).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(failure.message).toMatch(/still accepts writes/);
  });

  it('GIVEN a bad password WHEN fencing THEN AccessDenied is permanent', async () => {
    const { activities, primary } = setup();
    primary.badPassword = true;

    const failure = await failureOf(activities.fenceDatabase(input));

    expect(failure).toMatchObject({ type: 'AccessDenied', nonRetryable: true });
  });

  it('GIVEN an unknown connection name WHEN fencing THEN ConfigurationMissing names the env variable', async () => {
    const { activities } = setup();
    const target = {
      ...input.target,
      primary: { connection: 'nope-db', endpoint: 'x' },
    } as DatabaseInput['target'];

    const failure = await failureOf(activities.fenceDatabase({ name: 'ehr', target }));

    expect(failure).toMatchObject({ type: 'ConfigurationMissing', nonRetryable: true });
    expect(failure.message).toMatch(/DRCTL_PG_NOPE_DB_URL/);
  });
});

describe('promoteDatabase (postgres)', () => {
  it('GIVEN a standby WHEN promoting twice THEN it is promoted once and the second run reports changed:false', async () => {
    const { activities, pg, replica } = setup();

    const first = await activities.promoteDatabase(input);
    const second = await activities.promoteDatabase(input);

    expect(first).toMatchObject({ changed: true, writableEndpoint: '127.0.0.3' });
    expect(second).toMatchObject({ changed: false, writableEndpoint: '127.0.0.3' });
    expect(pg.state.promotions).toEqual(['ehr-replica']);
    expect(replica.inRecovery).toBe(false);
  });

  it('GIVEN a standby that stays in recovery for 3 polls after pg_promote WHEN promoting THEN it waits and then succeeds', async () => {
    const { activities, pg, replica } = setup();
    replica.promoteDelayPolls = 3;

    const outcome = await activities.promoteDatabase(input);

    expect(outcome.changed).toBe(true);
    expect(pg.state.calls.filter((c) => c === 'memberStatus ehr-replica').length).toBeGreaterThanOrEqual(4);
    expect(pg.state.calls.at(-1)).toBe('writeTest ehr-replica');
  });

  it('GIVEN the replica is unreachable WHEN promoting THEN the failure is retryable and names the address', async () => {
    const { activities, replica } = setup();
    replica.reachable = false;

    const failure = await failureOf(activities.promoteDatabase(input));

    expect(failure).toMatchObject({ type: 'PostgresUnreachable', nonRetryable: false });
    expect(failure.message).toMatch(/cannot reach 127\.0\.0\.3:5432/);
  });
});

describe('plans (postgres)', () => {
  it('GIVEN the healthy pair WHEN planning THEN fence and promote would change and nothing is touched', async () => {
    const { activities, pg } = setup();

    const fence = await activities.planFence(input);
    const promote = await activities.planPromote(input);

    expect(fence).toEqual([
      expect.objectContaining({
        current: 'primary, accepts writes; application roles that can log in: ehr_app (0 session(s))',
        willChange: true,
      }),
    ]);
    expect(promote).toMatchObject({
      writableEndpoint: '127.0.0.3',
      changes: [{ current: 'standby (in recovery), refuses writes', willChange: true }],
    });
    expect(pg.state.promotions).toEqual([]);
    expect(pg.state.fences).toEqual([]);
  });

  it('GIVEN the primary answers, then its session is lost WHEN planning the fence THEN the plan fails to be retried, not "down, will not change"', async () => {
    const { activities, pg } = setup();
    pg.fenceStatus = async () => {
      throw transientFailure(POSTGRES_UNREACHABLE, 'lost the session at 127.0.0.2:5432: 57P01');
    };

    await expect(activities.planFence(input)).rejects.toMatchObject({
      type: 'PostgresReadFailed',
      nonRetryable: false,
    });
  });

  it('GIVEN the primary is down WHEN planning the fence THEN it will not change', async () => {
    const { activities, primary } = setup();
    primary.reachable = false;

    expect(await activities.planFence(input)).toEqual([
      expect.objectContaining({ current: 'unreachable (treated as down)', willChange: false }),
    ]);
  });
});
