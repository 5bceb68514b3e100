import { runCanary } from '../../activities/drill/canary';
import { FakeCanaryPort, FakeClock } from '../fakes/fake-drill-canary';
import { failureOf } from './failure-of';

const START = Date.parse('2026-01-01T00:00:00.000Z');
const input = {
  drillId: 'drill-1',
  connection: 'ehr-app',
  intervalMs: 100,
  stopAfterFailingMs: 1000,
  maxDurationMs: 60_000,
};

function setup() {
  const clock = new FakeClock(START);
  const canary = new FakeCanaryPort(clock);
  return { clock, canary };
}

describe('runCanary', () => {
  it('GIVEN the primary is fenced after 2 s WHEN writes keep failing for stopAfterFailingMs THEN it returns what was acknowledged', async () => {
    const { clock, canary } = setup();
    canary.writeBehaviour = (now) => (now - START < 2000 ? 'commit' : 'read-only');

    const stats = await runCanary(input, { canary, clock });

    expect(stats.acknowledged).toBe(20);
    expect(stats.lastAcknowledgedSeq).toBe(20);
    expect(canary.rows).toHaveLength(20);
    expect(stats.firstWriteAt).toBe(new Date(START).toISOString());
    expect(stats.lastAcknowledgedAt).toBe(canary.rows[19]!.writtenAt.toISOString());
    expect(stats.stoppedBecause).toBe('writes-failing');
    expect(stats.lastError).toMatch(/read-only/);
    // When the first failed write came back, the fake write's own time after it was sent.
    expect(stats.writesFailingSince).toBe(new Date(START + 2000 + canary.writeMs).toISOString());
    // Failing since 2000 ms; it stops on the first failed attempt at least 1000 ms later.
    expect(clock.ms - START).toBeGreaterThanOrEqual(3000);
    expect(clock.ms - START).toBeLessThan(3200);
    expect(stats.failedWrites).toBeGreaterThanOrEqual(10);
    expect(stats.series).toEqual([
      [START, 10],
      [START + 1000, 10],
    ]);
    expect(stats.unconfirmedSeqs).toEqual([]);
    expect(canary.opened).toBe(canary.closed);
  });

  it('GIVEN the writes succeed WHEN it runs THEN it uses ONE session, paced on the interval grid', async () => {
    const { clock, canary } = setup();
    canary.writeMs = 30;

    const stats = await runCanary({ ...input, maxDurationMs: 1000 }, { canary, clock });

    expect(stats.acknowledged).toBe(10);
    expect(stats.stoppedBecause).toBe('max-duration');
    expect(canary.opened).toBe(1);
    expect(canary.closed).toBe(1);
    expect(canary.rows.map((r) => r.writtenAt.getTime() - START)).toEqual([
      0, 100, 200, 300, 400, 500, 600, 700, 800, 900,
    ]);
    expect(clock.heartbeats.length).toBeGreaterThanOrEqual(1);
  });

  it('GIVEN the primary is not up yet WHEN the first connects are refused THEN it does not stop before its first success', async () => {
    const { clock, canary } = setup();
    canary.connectBehaviour = (now) => (now - START < 1500 ? 'refused' : 'ok');
    canary.writeBehaviour = (now) => (now - START < 2500 ? 'commit' : 'read-only');

    const stats = await runCanary(input, { canary, clock });

    expect(stats.acknowledged).toBe(10);
    expect(stats.failedWrites).toBeGreaterThanOrEqual(15 + 10);
    expect(stats.firstWriteAt).toBe(new Date(START + 1500).toISOString());
    expect(stats.stoppedBecause).toBe('writes-failing');
  });

  it('GIVEN a write recovers within stopAfterFailingMs WHEN it fails again THEN the failing time restarts', async () => {
    const { clock, canary } = setup();
    // fails 1000..1700 (700 ms < 1000 ms), commits 1700..2000, then fails for good
    canary.writeBehaviour = (now) => {
      const t = now - START;
      return t < 1000 || (t >= 1700 && t < 2000) ? 'commit' : 'read-only';
    };

    const stats = await runCanary(input, { canary, clock });

    expect(stats.acknowledged).toBe(13);
    // When the first failed write came back, the fake write's own time after it was sent.
    expect(stats.writesFailingSince).toBe(new Date(START + 2000 + canary.writeMs).toISOString());
    expect(clock.ms - START).toBeGreaterThanOrEqual(3000);
  });

  it('GIVEN the session dies after the INSERT was sent WHEN it reconnects THEN that seq is unconfirmed, not acknowledged', async () => {
    const { clock, canary } = setup();
    canary.writeBehaviour = (now, row) => {
      if (row.seq === 5) return 'session-dies-after-commit';
      return now - START < 1000 ? 'commit' : 'read-only';
    };

    const stats = await runCanary(input, { canary, clock });

    expect(stats.unconfirmedSeqs).toEqual([5]);
    expect(stats.acknowledged).toBe(9);
    expect(canary.rows).toHaveLength(10);
    expect(canary.opened).toBe(canary.closed);
    expect(canary.maxOpen).toBe(1);
  });

  it('GIVEN no drctl_canary table WHEN it starts THEN it fails at once with what to create', async () => {
    const { clock, canary } = setup();
    canary.connectBehaviour = () => 'no-table';

    const failure = await failureOf(runCanary(input, { canary, clock }));

    expect(failure.type).toBe('ConfigurationMissing');
    expect(clock.ms).toBe(START);
  });

  it('GIVEN every write fails WHEN maxDurationMs passes THEN it fails saying nothing was written', async () => {
    const { clock, canary } = setup();
    canary.connectBehaviour = () => 'refused';

    const failure = await failureOf(runCanary({ ...input, maxDurationMs: 2000 }, { canary, clock }));

    expect(failure.type).toBe('PreflightFailed');
    expect(failure.message).toMatch(
      /wrote no row to connection ehr-app in 2000 ms \(20 failed writes; last error: cannot reach/,
    );
  });
});
