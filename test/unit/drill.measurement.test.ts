import type { CanaryStats } from '../../activities/drill-contracts';
import { computeDataLoss, measureDataLoss } from '../../activities/drill/measure-data-loss';
import type { CanaryRow } from '../../activities/drill/canary-port';
import { FakeCanaryPort, FakeClock } from '../fakes/fake-drill-canary';
import { failureOf } from './failure-of';
import {
  drillError,
  drillPassed,
  judgeObjectives,
  measurementConnections,
  restorationWaitMs,
} from '../../workflows/drill-measurement';
import type { Runbook } from '../../runbooks/schema';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const rowsEvery100ms = (from: number, to: number): CanaryRow[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    drillId: 'd1',
    seq: from + i,
    writtenAt: new Date(T0 + (from + i - 1) * 100),
  }));

function canaryStats(acknowledged: number, extra: Partial<CanaryStats> = {}): CanaryStats {
  return {
    drillId: 'd1',
    acknowledged,
    lastAcknowledgedSeq: acknowledged,
    lastAcknowledgedAt: new Date(T0 + (acknowledged - 1) * 100).toISOString(),
    firstWriteAt: new Date(T0).toISOString(),
    failedWrites: 3,
    series: [],
    ...extra,
  };
}

function setup(replicated: CanaryRow[]) {
  const canary = new FakeCanaryPort(new FakeClock(T0));
  canary.replicated = replicated;
  return canary;
}

describe('measureDataLoss', () => {
  it('GIVEN every acknowledged row reached the replica WHEN measured THEN nothing is lost and RPO is the gap to the injection', async () => {
    const canary = setup(rowsEvery100ms(1, 30)); // newest at T0 + 2900
    const measured = await measureDataLoss(
      {
        drillId: 'd1',
        connection: 'ehr-replica',
        injectedAt: new Date(T0 + 2950).toISOString(),
        canary: canaryStats(30),
      },
      { canary },
    );
    expect(measured).toEqual({
      newestPresentAt: new Date(T0 + 2900).toISOString(),
      newestPresentSeq: 30,
      presentRows: 30,
      lostRows: 0,
      rpoMs: 50,
    });
  });

  it('GIVEN delivery stopped after seq 10 WHEN measured THEN lostRows is the acknowledged tail and RPO reaches back to seq 10', async () => {
    const canary = setup(rowsEvery100ms(1, 10)); // newest at T0 + 900
    const measured = await measureDataLoss(
      {
        drillId: 'd1',
        connection: 'ehr-replica',
        injectedAt: new Date(T0 + 3000).toISOString(),
        canary: canaryStats(30),
      },
      { canary },
    );
    expect(measured).toMatchObject({ lostRows: 20, rpoMs: 2100, newestPresentSeq: 10, presentRows: 10 });
  });

  it('GIVEN an unconfirmed write made it across WHEN measured THEN it is neither acknowledged nor counted against the loss', async () => {
    const canary = setup(rowsEvery100ms(1, 12));
    const measured = await measureDataLoss(
      {
        drillId: 'd1',
        connection: 'ehr-replica',
        injectedAt: new Date(T0 + 1200).toISOString(),
        // seq 5 is unconfirmed: 11 of seqs 1..12 were acknowledged
        canary: canaryStats(11, { lastAcknowledgedSeq: 12, unconfirmedSeqs: [5] }),
      },
      { canary },
    );
    expect(measured).toMatchObject({ lostRows: 0, presentRows: 12, rpoMs: 100 });
  });

  it('GIVEN rows stamped after the injection WHEN measured THEN they do not shorten the RPO', () => {
    const measured = computeDataLoss(
      {
        drillId: 'd1',
        connection: 'c',
        injectedAt: new Date(T0 + 1000).toISOString(),
        canary: canaryStats(12),
      },
      {
        address: 'x',
        presentRows: 12,
        presentAcknowledgedRows: 12,
        newestPresentAtMs: T0 + 900,
        newestPresentSeq: 10,
      },
    );
    expect(measured.rpoMs).toBe(100);
    expect(measured.lostRows).toBe(0);
  });

  it('GIVEN no row reached the replica WHEN measured THEN everything is lost and RPO counts from the first write', async () => {
    const canary = setup([]);
    const measured = await measureDataLoss(
      {
        drillId: 'd1',
        connection: 'ehr-replica',
        injectedAt: new Date(T0 + 2500).toISOString(),
        canary: canaryStats(20),
      },
      { canary },
    );
    expect(measured).toEqual({
      newestPresentAt: null,
      newestPresentSeq: 0,
      presentRows: 0,
      lostRows: 20,
      rpoMs: 2500,
    });
  });

  it('GIVEN more rows than the canary acknowledged WHEN measured THEN it refuses (drill id reused)', async () => {
    const canary = setup(rowsEvery100ms(1, 10));
    const failure = await failureOf(
      measureDataLoss(
        {
          drillId: 'd1',
          connection: 'ehr-replica',
          injectedAt: new Date(T0 + 1000).toISOString(),
          canary: canaryStats(5, { lastAcknowledgedSeq: 10 }),
        },
        { canary },
      ),
    );
    expect(failure.type).toBe('InvalidState');
    expect(failure.message).toMatch(/another canary used this drill id/);
  });
});

describe('drill bounds and errors (issue 8.17)', () => {
  it('GIVEN an RTO of 4 hours WHEN the failover ended 10 minutes after the injection THEN the probe is waited for 3 h 50 m more, not 2 minutes', () => {
    const injectedAt = new Date(T0).toISOString();

    expect(restorationWaitMs(injectedAt, 4 * 3_600_000, T0 + 10 * 60_000)).toBe(230 * 60_000);
    expect(restorationWaitMs(injectedAt, 60_000, T0 + 5 * 60_000)).toBe(0);
  });

  it('GIVEN no restoration and a canary error THEN the drill error names both; with none THEN there is no error', () => {
    const error = drillError([
      'no write through the switched DNS name succeeded within the RTO (15m) of the injection',
      'the canary failed, so the RPO was not measured: connection refused',
    ]);

    expect(error).toMatch(/^no write through the switched DNS name .*; the canary failed, so the RPO/);
    expect(drillError([undefined, undefined])).toBeUndefined();
  });
});

describe('RPO of RDS drills (issue 8.17)', () => {
  const runbook = { objectives: { rto: '15m', rpo: '1m' } } as Runbook;
  const rtoMet = { rtoMs: 5 * 60_000, rpoMs: null };

  it('GIVEN an RDS instance with a connection on each member THEN the canary writes to the primary and the loss is read on the replica', () => {
    expect(
      measurementConnections({
        provider: 'rds-instance',
        primary: { connection: 'ehr-rds-primary' },
        replica: { connection: 'ehr-rds-replica' },
      }),
    ).toEqual({ primary: 'ehr-rds-primary', replica: 'ehr-rds-replica' });
  });

  it('GIVEN an RDS instance without a primary connection WHEN the RTO is met THEN the RPO says not measured and the drill passes', () => {
    const connections = measurementConnections({ provider: 'rds-instance', primary: {}, replica: {} });
    expect(connections).toEqual({
      notMeasurable: expect.stringMatching(/^not measured: .*primary\.connection/),
    });
    const reason = 'notMeasurable' in connections ? connections.notMeasurable : undefined;

    const verdicts = judgeObjectives(runbook, rtoMet, reason);

    expect(verdicts.find((v) => v.objective === 'RPO')).toMatchObject({ passed: false, notMeasured: reason });
    expect(drillPassed(undefined, verdicts)).toBe(true);
  });

  it('GIVEN a measurable RPO that was not measured (the canary failed) THEN the drill fails', () => {
    const verdicts = judgeObjectives(runbook, rtoMet);

    expect(verdicts.find((v) => v.objective === 'RPO')).toMatchObject({ passed: false });
    expect(verdicts.find((v) => v.objective === 'RPO')?.notMeasured).toBeUndefined();
    expect(drillPassed(undefined, verdicts)).toBe(false);
  });

  it('GIVEN an unmeasurable RPO but a missed RTO or an error THEN the drill still fails', () => {
    const reason = 'not measured: no connection';

    expect(
      drillPassed(undefined, judgeObjectives(runbook, { rtoMs: 20 * 60_000, rpoMs: null }, reason)),
    ).toBe(false);
    expect(drillPassed('the failover did not complete', judgeObjectives(runbook, rtoMet, reason))).toBe(
      false,
    );
  });

  it('GIVEN an RPO that was measured THEN it is judged even where it was marked unmeasurable', () => {
    const verdicts = judgeObjectives(runbook, { rtoMs: 60_000, rpoMs: 120_000 }, 'not measured: x');

    expect(verdicts.find((v) => v.objective === 'RPO')).toMatchObject({ passed: false, measuredMs: 120_000 });
    expect(drillPassed(undefined, verdicts)).toBe(false);
  });
});
