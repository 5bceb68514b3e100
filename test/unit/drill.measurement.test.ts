import type { CanaryStats } from '../../activities/drill-contracts';
import { computeDataLoss, measureDataLoss } from '../../activities/drill/measure-data-loss';
import type { CanaryRow } from '../../activities/drill/canary-port';
import { FakeCanaryPort, FakeClock } from '../fakes/fake-drill-canary';
import { failureOf } from './failure-of';

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
