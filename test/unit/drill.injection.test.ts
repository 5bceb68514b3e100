import type { DatabaseTarget } from '../../runbooks/schema';
import { MockActivityEnvironment } from '@temporalio/testing';
import { callRank } from '../../activities/aws-pacing/paced-client';
import { createDrillActivities } from '../../activities/drill/drill-activities';
import type { RunCommand } from '../../activities/drill/run-command';
import { runCommand } from '../../activities/drill/run-command';
import { FakeClock } from '../fakes/fake-drill-canary';
import { FakePostgres } from '../fakes/fake-postgres';
import { FakeRds } from '../fakes/fake-rds';
import { failureOf } from './failure-of';
import type { InjectFailureOutcome } from '../../activities/drill-contracts';

const pgTarget: DatabaseTarget = {
  provider: 'postgres',
  primary: { connection: 'ehr-primary', endpoint: '127.0.0.2' },
  replica: { connection: 'ehr-replica', endpoint: '127.0.0.3' },
  applicationRoles: ['ehr_app'],
  maxLag: '30s',
};
const rdsTarget: DatabaseTarget = {
  provider: 'rds-instance',
  primary: { instanceId: 'patient-portal-primary', region: 'us-east-1' },
  replica: { instanceId: 'patient-portal-replica', region: 'us-west-2' },
  maxLag: '30s',
  fence: 'security-groups',
  fenceSecurityGroup: 'drctl-fence-deny-all',
  acceptUnknownLag: false,
};

function setup(commandImpl?: RunCommand) {
  const { pg, primary } = FakePostgres.healthyPair();
  const { rds, primary: rdsPrimary } = FakeRds.portalPair();
  const clock = new FakeClock();
  const commands: string[][] = [];
  const command: RunCommand =
    commandImpl ??
    (async (argv) => {
      commands.push(argv);
      clock.ms += 250;
      return { stdout: 'postgres primary stopped\n', stderr: '' };
    });
  const activities = createDrillActivities({
    postgres: pg,
    rds,
    resolveHost: async () => '127.0.0.2',
    runCommand: command,
    injections: { 'stop-primary-vm': ['npx', 'tsx', 'sandbox/cli.ts', 'kill-primary'] },
    clock,
  });
  return { pg, primary, rds, rdsPrimary, clock, commands, activities };
}

describe('injectFailure', () => {
  it('GIVEN a writable primary WHEN fence-primary THEN it is fenced, injectedAt is when the fence began and inEffectAt when it returned', async () => {
    const { pg, primary, clock, activities } = setup();
    const fence = pg.fence.bind(pg);
    pg.fence = async (...args) => {
      clock.ms += 150;
      return fence(...args);
    };
    const began = clock.now().toISOString();
    const outcome = await activities.injectFailure({
      database: { name: 'ehr', target: pgTarget },
      action: 'fence-primary',
    });
    expect(primary.readOnly).toBe(true);
    expect(pg.state.fences).toEqual(['ehr-primary']);
    expect(outcome).toMatchObject({
      action: 'fence-primary',
      injectedAt: began,
      inEffectAt: clock.now().toISOString(),
      alreadyInEffect: false,
    });
    expect(outcome.summary).toMatch(/^fenced 127\.0\.0\.2/);
  });

  it('GIVEN a fence-primary whose fence call takes 20 s WHEN injecting THEN the activity heartbeats while it waits (before: none, so its one attempt timed out at 15 s while the fence went on)', async () => {
    jest.useFakeTimers({ doNotFake: ['performance'] });
    try {
      const { pg, activities } = setup();
      const fence = pg.fence.bind(pg);
      pg.fence = async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 20_000));
        return fence(...args);
      };
      const attempt = new MockActivityEnvironment();
      const beats: unknown[] = [];
      attempt.on('heartbeat', (details: unknown) => beats.push(details));

      const injecting: Promise<InjectFailureOutcome> = attempt.run(() =>
        activities.injectFailure({ database: { name: 'ehr', target: pgTarget }, action: 'fence-primary' }),
      );
      await jest.advanceTimersByTimeAsync(20_000);
      const outcome = await injecting;

      expect(outcome.alreadyInEffect).toBe(false);
      expect(beats.length).toBeGreaterThanOrEqual(3);
      expect(beats[0]).toEqual({ waitingFor: expect.stringMatching(/^the injected fence of 127\.0\.0\.2/) });
    } finally {
      jest.useRealTimers();
    }
  });

  it('GIVEN an already fenced primary WHEN fence-primary THEN it still returns a time and says so', async () => {
    const { pg, activities } = setup();
    await pg.fence('ehr-primary', { applicationRoles: ['ehr_app'], fenceId: 'earlier-fence' });
    const outcome = await activities.injectFailure({
      database: { name: 'ehr', target: pgTarget },
      action: 'fence-primary',
    });
    expect(outcome.alreadyInEffect).toBe(true);
    expect(outcome.summary).toMatch(/already fenced \(by earlier-fence\)/);
  });

  it("GIVEN a named injection of the worker's config WHEN stop-primary THEN it runs that argv; the injection began before it and was in effect when it returned", async () => {
    const { clock, commands, activities } = setup();
    const before = clock.ms;
    const outcome = await activities.injectFailure({
      database: { name: 'ehr', target: pgTarget },
      action: 'stop-primary',
      inject: 'stop-primary-vm',
    });
    expect(commands).toEqual([['npx', 'tsx', 'sandbox/cli.ts', 'kill-primary']]);
    expect(Date.parse(outcome.injectedAt)).toBe(before);
    expect(Date.parse(outcome.inEffectAt ?? '')).toBe(before + 250);
    expect(outcome.summary).toMatch(
      /with injection stop-primary-vm \(`npx tsx sandbox\/cli.ts kill-primary`\): postgres primary stopped$/,
    );
  });

  it('GIVEN no injection name WHEN stop-primary on PostgreSQL THEN it fails naming the configured injections', async () => {
    const { activities, commands } = setup();
    const failure = await failureOf(
      activities.injectFailure({ database: { name: 'ehr', target: pgTarget }, action: 'stop-primary' }),
    );
    expect(failure.type).toBe('ConfigurationMissing');
    expect(failure.message).toMatch(/--inject <name>, one of stop-primary-vm/);
    expect(commands).toEqual([]);
  });

  it.each([
    ['a name the worker does not know', 'rm-rf'],
    ['an argv smuggled in as the name', 'touch /tmp/pwned'],
    ['a name of an inherited property', 'constructor'],
  ])('GIVEN %s WHEN stop-primary THEN nothing runs and the known names are listed', async (_what, inject) => {
    const { activities, commands, primary } = setup();
    const failure = await failureOf(
      activities.injectFailure({
        database: { name: 'ehr', target: pgTarget },
        action: 'stop-primary',
        inject,
      }),
    );
    expect(failure.type).toBe('ConfigurationMissing');
    expect(failure.message).toContain(`no failure injection named "${inject}"`);
    expect(failure.message).toMatch(/known stop-primary-vm/);
    expect(commands).toEqual([]);
    expect(primary.readOnly).toBe(false);
  });

  it('GIVEN a failing command WHEN run for real THEN the failure carries its stderr', async () => {
    const failure = await failureOf(
      runCommand(['node', '-e', 'console.error("pg_ctl: no server running"); process.exit(3)'], {
        timeoutMs: 10_000,
      }),
    );
    expect(failure.type).toBe('InvalidState');
    expect(failure.message).toMatch(/exited with 3; stderr: pg_ctl: no server running/);
  });

  it('GIVEN a command that hangs WHEN run for real THEN it is killed at the timeout', async () => {
    const failure = await failureOf(runCommand(['sleep', '5'], { timeoutMs: 200 }));
    expect(failure.message).toMatch(/killed after the 200 ms timeout/);
  });

  it('GIVEN an RDS primary with a read replica WHEN stop-primary THEN it is refused before any call, as AWS would, pointing at fence-primary', async () => {
    const { rds, activities } = setup();
    const failure = await failureOf(
      activities.injectFailure({ database: { name: 'portal', target: rdsTarget }, action: 'stop-primary' }),
    );
    expect(failure).toMatchObject({ type: 'InvalidState', nonRetryable: true });
    expect(failure.message).toMatch(/AWS refuses StopDBInstance .*use the fence-primary action/);
    expect(rds.state.stops).toEqual([]);
  });

  it('GIVEN an RDS primary WHEN fence-primary THEN the fence security group is swapped in and it is rebooted; a second time it is already in effect', async () => {
    const { rds, rdsPrimary, activities } = setup();
    const first = await activities.injectFailure({
      database: { name: 'portal', target: rdsTarget },
      action: 'fence-primary',
    });
    const second = await activities.injectFailure({
      database: { name: 'portal', target: rdsTarget },
      action: 'fence-primary',
    });
    expect(first.alreadyInEffect).toBe(false);
    expect(rdsPrimary.securityGroups).toEqual(['sg-drctl-fence-deny-all-us-east-1']);
    expect(second.alreadyInEffect).toBe(true);
    expect(rds.state.reboots).toEqual(['patient-portal-primary']);
  });
});

describe('probeUntilRestored', () => {
  const probe = {
    type: 'sql' as const,
    connection: 'ehr-app',
    via: { zone: { name: 'sandbox.drctl.internal.' }, record: 'ehr-db.sandbox.drctl.internal.' },
    write: true,
  };

  it('GIVEN DNS still names the fenced primary WHEN it is switched to the promoted replica THEN the probe returns the first successful write', async () => {
    const { pg } = FakePostgres.healthyPair();
    const [primary, replica] = ['ehr-primary', 'ehr-replica'].map((c) => pg.state.members.get(c)!);
    primary!.readOnly = true;
    replica!.inRecovery = false;
    const clock = new FakeClock();
    const start = clock.ms;
    let lookups = 0;
    const activities = createDrillActivities({
      postgres: pg,
      rds: new FakeRds(),
      clock,
      resolveHost: async () => (++lookups >= 4 ? '127.0.0.3' : '127.0.0.2'),
    });

    const outcome = await activities.probeUntilRestored({ probe, drillId: 'drill-7', intervalMs: 200 });

    expect(outcome).toEqual({
      attempts: 4,
      host: '127.0.0.3:5432',
      restoredAt: new Date(start + 600).toISOString(),
    });
    expect(replica!.rows).toEqual([{ id: 1, runId: 'drill-7' }]);
    expect(clock.heartbeats).toHaveLength(4);
  });

  it('GIVEN a probe activity scheduled long ago THEN its DNS lookups go to the AWS pacer ranked as of each attempt, behind the steps it measures', async () => {
    const { pg } = FakePostgres.healthyPair();
    pg.state.members.get('ehr-primary')!.readOnly = true;
    pg.state.members.get('ehr-replica')!.inRecovery = false;
    const ranks: Array<number | undefined> = [];
    let lookups = 0;
    const activities = createDrillActivities({
      postgres: pg,
      rds: new FakeRds(),
      clock: new FakeClock(),
      resolveHost: async () => {
        ranks.push(callRank());
        return ++lookups >= 2 ? '127.0.0.3' : '127.0.0.2';
      },
    });
    const scheduledAt = Date.now() - 60_000;
    const env = new MockActivityEnvironment({ scheduledTimestampMs: scheduledAt });
    const before = Date.now();

    await env.run(() => activities.probeUntilRestored({ probe, drillId: 'd', intervalMs: 100 }));

    expect(ranks).toHaveLength(2);
    for (const rank of ranks) expect(rank).toBeGreaterThanOrEqual(before);
  });

  it('GIVEN nothing becomes writable WHEN maxWaitMs passes THEN it fails with the last error', async () => {
    const { pg } = FakePostgres.healthyPair();
    pg.state.members.get('ehr-primary')!.readOnly = true;
    const activities = createDrillActivities({
      postgres: pg,
      rds: new FakeRds(),
      clock: new FakeClock(),
      resolveHost: async () => '127.0.0.2',
    });
    const failure = await failureOf(
      activities.probeUntilRestored({ probe, drillId: 'd', intervalMs: 100, maxWaitMs: 1000 }),
    );
    expect(failure.type).toBe('ProbeFailed');
    expect(failure.message).toMatch(/in 1000 ms \(11 attempts\); last error: .*read-only/);
  });

  it('GIVEN a worker without a canary port WHEN the canary is started THEN it fails saying how to wire it', async () => {
    const { pg } = FakePostgres.healthyPair();
    const activities = createDrillActivities({
      postgres: pg,
      rds: new FakeRds(),
      resolveHost: async () => 'x',
    });
    const failure = await failureOf(
      activities.runCanary({
        drillId: 'd',
        connection: 'ehr-app',
        intervalMs: 100,
        stopAfterFailingMs: 1000,
        maxDurationMs: 1000,
      }),
    );
    expect(failure.type).toBe('ConfigurationMissing');
    expect(failure.message).toMatch(/createCanaryAdapter/);
  });
});
