import { MockActivityEnvironment } from '@temporalio/testing';
import type { DnsChange, DnsSwap, DnsUpsert } from '../../activities/dns/route53-port';
import type { DnsRecordState } from '../../kinds/dns-switch/definition';
import { createDnsActivities } from '../../kinds/dns-switch/activities';
import { transientFailure } from '../../activities/failures';
import { FakeRoute53 } from '../fakes/fake-route53';

const ZONE = { id: 'Z1', name: 'sandbox.drctl.internal.' };
const EHR = 'ehr-db.sandbox.drctl.internal.';
const PORTAL = 'portal-db.sandbox.drctl.internal.';
const fastPoll = { initialIntervalMs: 5, maxIntervalMs: 10 };

/** A Route 53 where another writer moves `name` just before each of the switch's change batches reaches it. */
class RacedRoute53 extends FakeRoute53 {
  raced = 0;

  constructor(
    private readonly race: { name: string; value: string; times: number },
    records: Array<{ name: string; value: string }>,
  ) {
    super({ zones: [{ ...ZONE, records: records.map((r) => ({ ...r, type: 'A' as const, ttl: 30 })) }] });
  }

  private anotherWriter(): void {
    if (this.raced >= this.race.times) return;
    this.raced++;
    const records = this.zones.get(ZONE.id)?.records;
    records?.set(`A ${this.race.name}`, {
      name: this.race.name,
      type: 'A',
      ttl: 30,
      values: [this.race.value],
    });
  }

  override async upsertRecords(zoneId: string, upserts: DnsUpsert[], comment: string): Promise<DnsChange> {
    this.anotherWriter();
    return super.upsertRecords(zoneId, upserts, comment);
  }

  override async swapRecords(zoneId: string, swaps: DnsSwap[], comment: string): Promise<DnsChange> {
    this.anotherWriter();
    return super.swapRecords(zoneId, swaps, comment);
  }
}

/** A fake Route 53 whose one zone holds these A records (TTL 30). */
function zoneWith(...records: Array<[name: string, value: string]>): FakeRoute53 {
  return new FakeRoute53({
    zones: [
      { ...ZONE, records: records.map(([name, value]) => ({ name, type: 'A' as const, ttl: 30, value })) },
    ],
  });
}

/** Both records as the run read them ahead: at 127.0.0.2. */
const bothReadAhead = () =>
  readAs([
    { name: EHR, value: '127.0.0.2' },
    { name: PORTAL, value: '127.0.0.2' },
  ]);

/** Both records to 127.0.0.3 (EHR's TTL to `ehrTtl`), from the state read ahead. */
const switchBoth = (ehrTtl = 30) => ({
  zone: { name: ZONE.name },
  records: [
    { name: EHR, type: 'A' as const, ttl: ehrTtl, value: '127.0.0.3' },
    { name: PORTAL, type: 'A' as const, ttl: 30, value: '127.0.0.3' },
  ],
  checkResolution: false,
  expectedBefore: bothReadAhead(),
});

function activitiesOn(route53: FakeRoute53) {
  return createDnsActivities({ route53, poll: fastPoll, resolutionTimeoutMs: 2000 });
}

const readAs = (records: Array<{ name: string; value: string | null }>): DnsRecordState[] =>
  records.map(({ name, value }) => ({
    name,
    type: 'A',
    ttl: value === null ? null : 30,
    values: value === null ? [] : [value],
  }));

describe('switchDns swaps records from the state the run read ahead (Route 53 checks it as it applies the batch)', () => {
  it('GIVEN another writer moves a record between the run reading it and the switch writing it THEN the switch refuses with ChangedSinceRead and the other writer keeps its value', async () => {
    // Read, then UPSERT: the switch overwrote the other writer's value and recorded an undo that would put back
    // the value from before it, erasing both changes.
    const route53 = new RacedRoute53({ name: EHR, value: '127.0.0.9', times: 1 }, [
      { name: EHR, value: '127.0.0.2' },
    ]);

    const error = await activitiesOn(route53)
      .switchDns({
        zone: { name: ZONE.name },
        records: [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }],
        checkResolution: false,
        expectedBefore: readAs([{ name: EHR, value: '127.0.0.2' }]),
      })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ type: 'ChangedSinceRead', nonRetryable: true });
    expect((error as Error).message).toContain(
      `Tried to delete resource record set [name='${EHR}', type='A'] but the values provided do not match the current values`,
    );
    expect(route53.valuesOf(ZONE.id, EHR, 'A')).toEqual(['127.0.0.9']);
  });

  it('GIVEN records that hold what the run read ahead THEN they are swapped in one batch without reading the zone first', async () => {
    const route53 = zoneWith([EHR, '127.0.0.2'], [PORTAL, '127.0.0.2']);

    const outcome = await activitiesOn(route53).switchDns(switchBoth(60));

    expect(outcome.changed).toBe(true);
    expect(route53.zones.get(ZONE.id)?.records.get(`A ${EHR}`)).toMatchObject({
      ttl: 60,
      values: ['127.0.0.3'],
    });
    expect(route53.valuesOf(ZONE.id, PORTAL, 'A')).toEqual(['127.0.0.3']);
    expect(route53.submitted.map((batch) => batch.swaps?.length)).toEqual([2]);
    expect(route53.calls.listRecordSets).toBeUndefined();
    expect(outcome.compensation).toEqual({
      zone: { name: ZONE.name },
      records: [
        { name: EHR, type: 'A', ttl: 30, value: '127.0.0.2' },
        { name: PORTAL, type: 'A', ttl: 30, value: '127.0.0.2' },
      ],
    });
  });

  it('GIVEN one record of a batch moved since the read-ahead THEN no record of the batch changes', async () => {
    const route53 = zoneWith([EHR, '127.0.0.2'], [PORTAL, '127.0.0.8']);

    const error = await activitiesOn(route53)
      .switchDns(switchBoth())
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ type: 'ChangedSinceRead' });
    expect(route53.valuesOf(ZONE.id, EHR, 'A')).toEqual(['127.0.0.2']);
    expect(route53.valuesOf(ZONE.id, PORTAL, 'A')).toEqual(['127.0.0.8']);
    expect(route53.submitted).toHaveLength(0);
  });

  it('GIVEN a record the run found absent that someone created since THEN the swap refuses instead of overwriting it', async () => {
    const route53 = zoneWith([PORTAL, '127.0.0.7']);

    const error = await activitiesOn(route53)
      .switchDns({
        zone: { name: ZONE.name },
        records: [{ name: PORTAL, type: 'A', ttl: 30, value: '127.0.0.3' }],
        checkResolution: false,
        expectedBefore: readAs([{ name: PORTAL, value: null }]),
      })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ type: 'ChangedSinceRead' });
    expect((error as Error).message).toContain('but it already exists');
    expect(route53.valuesOf(ZONE.id, PORTAL, 'A')).toEqual(['127.0.0.7']);
  });

  describe('more records than one change batch holds (600: batches of 500)', () => {
    const names = Array.from(
      { length: 600 },
      (_, i) => `r${String(i).padStart(3, '0')}.sandbox.drctl.internal.`,
    );
    /** The switch of all 600 from the state read ahead, as a run that handles PartlySwitched asks for it. */
    const switchAll = (batchedSwaps = true) => ({
      zone: { name: ZONE.name },
      records: names.map((name) => ({ name, type: 'A' as const, ttl: 30, value: '127.0.0.3' })),
      checkResolution: false,
      expectedBefore: readAs(names.map((name) => ({ name, value: '127.0.0.2' }))),
      batchedSwaps,
    });
    /** The zone with every record at 127.0.0.2 but `moved`, which another writer set to 127.0.0.9. */
    const zoneMoved = (moved?: string) =>
      zoneWith(...names.map((name): [string, string] => [name, name === moved ? '127.0.0.9' : '127.0.0.2']));
    const valueOf = (route53: FakeRoute53, name: string) => route53.valuesOf(ZONE.id, name, 'A')?.[0];

    it('GIVEN none moved since the read-ahead THEN they are swapped in two batches, one after the other, without reading the zone', async () => {
      const route53 = zoneMoved();

      const outcome = await activitiesOn(route53).switchDns(switchAll());

      expect(route53.submitted.map((batch) => batch.swaps?.length)).toEqual([500, 100]);
      expect(route53.calls.listRecordSets).toBeUndefined();
      expect(names.every((name) => valueOf(route53, name) === '127.0.0.3')).toBe(true);
      expect(outcome.facts).toMatchObject({ recordsChanged: 600, changeBatches: 2 });
    });

    it('GIVEN one record of the first batch moved THEN the switch refuses with ChangedSinceRead and sends nothing', async () => {
      const route53 = zoneMoved(names[10]);

      const error = await activitiesOn(route53)
        .switchDns(switchAll())
        .catch((e: unknown) => e);

      expect(error).toMatchObject({ type: 'ChangedSinceRead', nonRetryable: true });
      expect(route53.submitted).toHaveLength(0);
      expect(names.every((name) => valueOf(route53, name) !== '127.0.0.3')).toBe(true);
    });

    it('GIVEN one record of the second batch moved THEN the first batch is switched, the second refused whole, and the step fails with PartlySwitched naming the 500 records it switched', async () => {
      // Before, a switch over one batch read the zone and UPSERTed: another writer between that read and a later
      // batch was overwritten, and the run's undo put back the value from before, erasing the writer's change.
      const moved = names[550] as string;
      const route53 = zoneMoved(moved);

      const error = await activitiesOn(route53)
        .switchDns(switchAll())
        .catch((e: unknown) => e);

      expect(error).toMatchObject({ type: 'PartlySwitched', nonRetryable: true });
      expect((error as { details?: unknown[] }).details?.[0]).toEqual({
        switched: Array.from({ length: 500 }, (_, i) => i),
      });
      expect(route53.submitted.map((batch) => batch.swaps?.length)).toEqual([500]);
      expect(names.slice(0, 500).every((name) => valueOf(route53, name) === '127.0.0.3')).toBe(true);
      expect(names.slice(500).map((name) => valueOf(route53, name))).toEqual(
        names.slice(500).map((name) => (name === moved ? '127.0.0.9' : '127.0.0.2')),
      );
    });

    it('GIVEN a later attempt (the answer to batch 2 was lost, or the worker died after batch 1) and a record of batch 2 moved by another writer THEN it fails PartlySwitched naming the records at their new values, and sends nothing', async () => {
      // Before, a later attempt read the zone and UPSERTed over the moved record, and the run's undo (the state
      // read ahead) would have put back the value from before the writer.
      const moved = names[550] as string;
      const route53 = zoneWith(
        ...names.map((name, i): [string, string] => [
          name,
          i < 500 ? '127.0.0.3' : name === moved ? '127.0.0.9' : '127.0.0.2',
        ]),
      );

      const error = await new MockActivityEnvironment({ attempt: 2 })
        .run(() => activitiesOn(route53).switchDns(switchAll()))
        .catch((e: unknown) => e);

      expect(error).toMatchObject({ type: 'PartlySwitched', nonRetryable: true });
      expect((error as { details?: unknown[] }).details?.[0]).toEqual({
        switched: Array.from({ length: 500 }, (_, i) => i),
      });
      expect(route53.submitted).toHaveLength(0);
      expect(valueOf(route53, moved)).toBe('127.0.0.9');
    });

    it('GIVEN a later attempt after batch 1 went through and nothing moved THEN it goes on: reads the zone and switches the rest', async () => {
      const route53 = zoneWith(
        ...names.map((name, i): [string, string] => [name, i < 500 ? '127.0.0.3' : '127.0.0.2']),
      );

      const outcome = await new MockActivityEnvironment({ attempt: 2 }).run(() =>
        activitiesOn(route53).switchDns(switchAll()),
      );

      expect(outcome).toMatchObject({ changed: true });
      expect(route53.submitted.map((batch) => batch.upserts.length)).toEqual([100]);
      expect(names.every((name) => valueOf(route53, name) === '127.0.0.3')).toBe(true);
    });

    it('GIVEN a run recorded before batched swaps (it cannot take PartlySwitched) THEN its switch of 600 reads the zone and UPSERTs, as it did', async () => {
      const route53 = zoneMoved();

      await activitiesOn(route53).switchDns(switchAll(false));

      expect(route53.calls.listRecordSets).toBeGreaterThan(0);
      expect(route53.submitted.map((batch) => (batch.swaps ? 'swap' : batch.upserts.length))).toEqual([
        500, 100,
      ]);
      expect(names.every((name) => valueOf(route53, name) === '127.0.0.3')).toBe(true);
    });
  });
});

describe('switchDns when a swap went through but its answer was lost (the SDK sent it again and Route 53 refused)', () => {
  /** Applies the swap, then fails as the adapter does when the SDK's second attempt was refused. */
  class LostAnswerRoute53 extends FakeRoute53 {
    override async swapRecords(zoneId: string, swaps: DnsSwap[], comment: string): Promise<DnsChange> {
      await super.swapRecords(zoneId, swaps, comment);
      throw transientFailure(
        'OutcomeUnknown',
        'Route 53 refused it after the SDK had sent it more than once',
      );
    }
  }

  it('GIVEN the first attempt failed so WHEN the step is retried THEN it reads the zone, sends the same values again to wait for the lost change, and the undo holds the values read ahead', async () => {
    // Each change stays PENDING 50 ms: the retry's change is refused (PriorRequestNotComplete) until the lost one is done.
    const route53 = new LostAnswerRoute53({
      insyncAfterMs: 50,
      zones: [{ ...ZONE, records: [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.2' }] }],
    });
    const input = {
      zone: { name: ZONE.name },
      records: [{ name: EHR, type: 'A' as const, ttl: 30, value: '127.0.0.3' }],
      checkResolution: false,
      expectedBefore: readAs([{ name: EHR, value: '127.0.0.2' }]),
    };
    let details: unknown;
    const first = new MockActivityEnvironment({ attempt: 1 });
    first.on('heartbeat', (beat: unknown) => (details = beat));

    const failed = await first.run(() => activitiesOn(route53).switchDns(input)).catch((e: unknown) => e);
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: details });
    const retried: Awaited<ReturnType<ReturnType<typeof activitiesOn>['switchDns']>> = await retry.run(() =>
      activitiesOn(route53).switchDns(input),
    );

    expect(failed).toMatchObject({ type: 'OutcomeUnknown', nonRetryable: false });
    expect(route53.valuesOf(ZONE.id, EHR, 'A')).toEqual(['127.0.0.3']);
    // The lost change may still be PENDING: the retry sends the same values again (changing nothing) and waits
    // for that change's INSYNC, which Route 53 reaches only after the earlier one.
    expect(route53.submitted.map((batch) => (batch.swaps ? 'swap' : 'upsert'))).toEqual(['swap', 'upsert']);
    expect(route53.submitted[1]?.upserts).toEqual([{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }]);
    expect(route53.refusedPriorRequest).toBeGreaterThan(0);
    expect(route53.getChangeCalls.at(-1)).toBe(route53.submitted[1]?.changeId);
    expect(retried.summary).toMatch(/Switched 1 of 1 record\(s\) .* INSYNC/);
    expect(retried.compensation).toEqual({
      zone: { name: ZONE.name },
      records: [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.2' }],
    });
  });
});

describe('switchDns falls back to reading the zone and UPSERTing where a swap cannot name the old state', () => {
  it('GIVEN a record read ahead without values (an alias record) WHEN switching THEN it is UPSERTed after a read, not swapped', async () => {
    const route53 = new FakeRoute53({ zones: [{ ...ZONE, records: [] }] });
    route53.zones.get(ZONE.id)?.records.set(`A ${EHR}`, { name: EHR, type: 'A', ttl: 0, values: [] });

    const outcome = await activitiesOn(route53).switchDns({
      zone: { name: ZONE.name },
      records: [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }],
      checkResolution: false,
      expectedBefore: [{ name: EHR, type: 'A', ttl: 0, values: [] }],
    });

    expect(outcome.changed).toBe(true);
    expect(route53.valuesOf(ZONE.id, EHR, 'A')).toEqual(['127.0.0.3']);
    expect(route53.submitted.map((batch) => batch.swaps === undefined)).toEqual([true]);
  });
});
