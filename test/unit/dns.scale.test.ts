import { MockActivityEnvironment } from '@temporalio/testing';
import { createDnsActivities } from '../../kinds/dns-switch/activities';
import { FakeRoute53 } from '../fakes/fake-route53';

const ZONE = { id: 'Z1', name: 'fleet.drctl.internal.' };
const fastPoll = { initialIntervalMs: 2, maxIntervalMs: 5 };

function names(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(5, '0')}.${ZONE.name}`);
}

function zoneOf(count: number, value: string, options: { pendingPolls?: number } = {}) {
  return new FakeRoute53({
    ...options,
    zones: [{ ...ZONE, records: names(count).map((name) => ({ name, type: 'A' as const, ttl: 60, value })) }],
  });
}

function switchAll(count: number, value: string, checkResolution = true) {
  return {
    zone: { name: ZONE.name },
    records: names(count).map((name) => ({ name, type: 'A' as const, ttl: 60, value })),
    checkResolution,
  };
}

describe('dns.switch at scale: calls grow with pages and batches, not records', () => {
  it('GIVEN 2,000 records in one zone WHEN switching THEN it reads 7 pages, writes 4 batches of at most 500 UPSERTs, and checks without a call per record', async () => {
    const route53 = zoneOf(2000, '10.0.0.1');
    const activities = createDnsActivities({ route53, poll: fastPoll, resolutionTimeoutMs: 2000 });

    const outcome = await activities.switchDns(switchAll(2000, '10.0.0.2'));

    expect(route53.submitted.map((s) => s.upserts.length)).toEqual([500, 500, 500, 500]);
    expect(route53.calls).toMatchObject({ findZone: 1, listRecordSets: 14, upsertRecords: 4 });
    expect(route53.calls.getRecordSet).toBeUndefined();
    expect(route53.calls.testDnsAnswer).toBe(4);
    expect(names(2000).every((name) => route53.valuesOf('Z1', name, 'A')?.[0] === '10.0.0.2')).toBe(true);
    expect(outcome.facts).toMatchObject({ records: 2000, recordsChanged: 2000, changeBatches: 4 });
    expect(outcome.compensation).toMatchObject({
      records: expect.arrayContaining([expect.objectContaining({ value: '10.0.0.1' })]),
    });
  });

  it('GIVEN each change stays PENDING for 2 polls WHEN switching 1,200 records THEN each batch waits INSYNC before the next, and Route 53 never refuses one', async () => {
    const route53 = zoneOf(1200, '10.0.0.1', { pendingPolls: 2 });
    const activities = createDnsActivities({ route53, poll: fastPoll });

    await activities.switchDns(switchAll(1200, '10.0.0.2', false));

    expect(route53.submitted).toHaveLength(3);
    expect(route53.refusedPriorRequest).toBe(0);
    expect(route53.getChangeCalls).toEqual(['C1', 'C1', 'C1', 'C2', 'C2', 'C2', 'C3', 'C3', 'C3']);
  });

  it("GIVEN another writer's change is PENDING in the zone WHEN switching THEN PriorRequestNotComplete slows the step, it does not fail it", async () => {
    const route53 = zoneOf(3, '10.0.0.1', { pendingPolls: 3 });
    await route53.upsertRecords(
      'Z1',
      [{ name: 'other.fleet.drctl.internal.', type: 'A', ttl: 60, value: '1.1.1.1' }],
      'someone else',
    );
    const activities = createDnsActivities({ route53, poll: fastPoll });
    const settle = (async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await route53.getChange('C1');
      }
    })();

    const outcome = await activities.switchDns(switchAll(3, '10.0.0.2', false));
    await settle;

    expect(outcome.changed).toBe(true);
    expect(route53.refusedPriorRequest).toBeGreaterThan(0);
    expect(route53.valuesOf('Z1', names(3)[0] as string, 'A')).toEqual(['10.0.0.2']);
  });

  it('GIVEN an attempt died after its first batch WHEN retried THEN it submits only the rest and the undo still holds the old values', async () => {
    const route53 = zoneOf(1000, '10.0.0.1');
    const all = switchAll(1000, '10.0.0.2', false);
    const first = all.records.slice(0, 500);
    await route53.upsertRecords(
      'Z1',
      first.map((r) => ({ ...r })),
      'attempt 1, batch 1',
    );
    const env = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: {
        resume: 'dns.switch',
        zoneId: 'Z1',
        phase: 'submit',
        before: Object.fromEntries(all.records.map((r) => [`A ${r.name}`, [60, ['10.0.0.1']]])),
        changes: [{ id: 'C1', status: 'INSYNC', records: 500 }],
      },
    });
    const activities = createDnsActivities({ route53, poll: fastPoll });

    const outcome: Awaited<ReturnType<typeof activities.switchDns>> = await env.run(() =>
      activities.switchDns(all),
    );

    expect(route53.submitted.map((s) => s.upserts.length)).toEqual([500, 500]);
    expect(route53.submitted[1]?.upserts[0]?.name).toBe(all.records[500]?.name);
    expect(outcome.facts).toMatchObject({ recordsChanged: 1000, changeId: 'C1,C2' });
    const undo = outcome.compensation as { records: Array<{ value: string }> };
    expect(undo.records).toHaveLength(1000);
    expect(new Set(undo.records.map((r) => r.value))).toEqual(new Set(['10.0.0.1']));
  });

  it('GIVEN a check died after reading 3 pages WHEN retried THEN it goes on from the 4th page and heartbeats each page', async () => {
    const route53 = zoneOf(2000, '10.0.0.1');
    const activities = createDnsActivities({ route53, poll: fastPoll });
    const records = names(2000).map((name) => ({ name, type: 'A' as const }));
    const firstEnv = new MockActivityEnvironment();
    const beats: unknown[] = [];
    firstEnv.on('heartbeat', (details: unknown) => beats.push(structuredClone(details)));
    await firstEnv.run(() => activities.checkDnsRecords({ zone: { id: 'Z1' }, records }));
    expect(beats).toHaveLength(7);
    const afterThree = beats[2];
    const before = route53.calls.listRecordSets ?? 0;

    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: afterThree });
    const results = await retry.run(() => activities.checkDnsRecords({ zone: { id: 'Z1' }, records }));

    expect((route53.calls.listRecordSets ?? 0) - before).toBe(4);
    expect(results).toEqual([
      expect.objectContaining({ ok: true }),
      expect.objectContaining({
        check: `dns ${ZONE.name}: 2000 records exist`,
        ok: true,
        message: 'all 2000 records found',
      }),
    ]);
  });
});
