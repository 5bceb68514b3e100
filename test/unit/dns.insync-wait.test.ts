import { AwsPacer } from '../../activities/aws-pacing/aws-pacer';
import { createDnsActivities, QUICK_POLLING_OTHERS } from '../../kinds/dns-switch/activities';
import { FakeRoute53 } from '../fakes/fake-route53';

const EHR = 'ehr-db.sandbox.drctl.internal.';

function route53(insyncAfterMs: number): FakeRoute53 {
  return new FakeRoute53({
    insyncAfterMs,
    zones: [
      {
        id: 'Z1',
        name: 'sandbox.drctl.internal.',
        records: [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.2' }],
      },
    ],
  });
}

const switchToReplica = {
  zone: { name: 'sandbox.drctl.internal' },
  records: [{ name: EHR, type: 'A' as const, ttl: 30, value: '127.0.0.3' }],
  checkResolution: true,
};

/** Runs the switch on fake timers with the activities' own poll pacing; returns the virtual time it took. */
async function switchTook(
  fake: FakeRoute53,
  spareBudget?: () => boolean,
  fairPollMs?: () => number,
): Promise<number> {
  const activities = createDnsActivities({
    route53: fake,
    ...(spareBudget ? { spareBudget } : {}),
    ...(fairPollMs ? { fairPollMs } : {}),
  });
  const started = Date.now();
  let took: number | undefined;
  const switched = activities.switchDns(switchToReplica).then((outcome) => {
    took = Date.now() - started;
    return outcome;
  });
  await jest.advanceTimersByTimeAsync(120_000);
  expect((await switched).changed).toBe(true);
  return took ?? Number.NaN;
}

describe('switchDns waits for INSYNC without overshooting it much, and without polling a long wait hard', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('GIVEN a change that is INSYNC 300 ms after it was sent THEN the switch ends within 50 ms of that', async () => {
    // With polls 200 ms apart at first the switch saw INSYNC at 500 ms: 200 ms of the step spent on nobody's work.
    const took = await switchTook(route53(300));
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThanOrEqual(350);
  });

  it('GIVEN a change that takes a minute THEN it is polled at most 25 times', async () => {
    const fake = route53(60_000);
    const took = await switchTook(fake);
    expect(took).toBeGreaterThanOrEqual(60_000);
    expect(fake.getChangeCalls.length).toBeLessThanOrEqual(25);
  });

  it('GIVEN spare Route 53 budget and a change INSYNC after 300 ms THEN the switch sees it within 25 ms', async () => {
    // Growing waits saw it at 329 ms: the last 127 ms poll interval, of which 98 ms came after the change settled.
    const took = await switchTook(route53(300), () => true);
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThanOrEqual(325);
  });

  it('GIVEN budget always spare and a change that takes a minute THEN only its first 20 polls are quick, then the waits grow', async () => {
    const fake = route53(60_000);
    const started = Date.now();
    const took = await switchTook(fake, () => true);
    expect(took).toBeGreaterThanOrEqual(60_000);
    const quick = fake.getChangeTimes.filter((at) => at - started <= 600).length;
    expect(quick).toBeGreaterThanOrEqual(18);
    expect(fake.getChangeCalls.length).toBeLessThanOrEqual(45);
  });

  it('GIVEN a short Route 53 budget (many switches share it) and a change INSYNC after 300 ms THEN one GetChange, a second after the change', async () => {
    // Polled at once and then 25 ms apart, it took six GetChange calls: tokens the other zones' switches wait for.
    const fake = route53(300);
    const took = await switchTook(fake, () => false);
    expect(fake.getChangeCalls).toHaveLength(1);
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThanOrEqual(1_050);
  });

  it('GIVEN a short Route 53 budget and a change that takes a minute THEN it is polled at most 16 times', async () => {
    const fake = route53(60_000);
    const took = await switchTook(fake, () => false);
    expect(took).toBeGreaterThanOrEqual(60_000);
    expect(fake.getChangeCalls.length).toBeLessThanOrEqual(16);
  });

  it("GIVEN the worker's own pacer (burst 50, 10/s), which the polls spend, and a change that takes a minute THEN about 45 GetChange calls, not the bucket's whole refill", async () => {
    // The budget the waits ask about is the one they spend: without the bound on quick polls, a wait kept the
    // bucket just above half and polled at its refill rate (~600 calls a minute).
    const pacer = new AwsPacer();
    const fake = route53(60_000);
    const paced = new Proxy(fake, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await pacer.take('route53', 'global');
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const took = await switchTook(paced, () => pacer.hasSpare('route53', 'global'));
    expect(took).toBeGreaterThanOrEqual(60_000);
    expect(fake.getChangeCalls.length).toBeLessThanOrEqual(45);
  });

  /** The DNS activity's own question to the worker's pacer, for the run `ehr-run`. */
  const spareFor = (pacer: AwsPacer) => () =>
    pacer.hasSpare('route53', 'global', 0.5, { forRun: 'ehr-run', others: QUICK_POLLING_OTHERS });

  /** The DNS activity's fair share of the pacer's Route 53 refill, for the run `ehr-run`. */
  const fairFor = (pacer: AwsPacer) => () => pacer.fairShareIntervalMs('route53', 'global', 'ehr-run');

  /** A pacer whose Route 53 bucket `others` other runs drew on half a second ago, `spent` tokens in all. */
  async function sharedPacer(others: number, spent = others): Promise<AwsPacer> {
    const pacer = new AwsPacer();
    for (let i = 0; i < spent; i++)
      await pacer.take('route53', 'global', undefined, `service-${i % others}-run`);
    await jest.advanceTimersByTimeAsync(500);
    return pacer;
  }

  it("GIVEN a full Route 53 bucket that two other runs drew on half a second ago (an evacuation's last services) THEN one GetChange, at the run's third of the refill (300 ms), not a second", async () => {
    // The bucket refills between an evacuation's bursts; judged by its content alone the first switch of the
    // burst polled 25 ms apart (13 GetChange calls), spending the tokens the other services' switches came for.
    // Waiting a second instead was the evacuation's tail: its last switch, with two others, waited 1.04 s for a
    // change INSYNC after 300 ms, while three runs polling a third of the 10/s refill each spend it evenly.
    const pacer = await sharedPacer(2);
    const fake = route53(300);
    const took = await switchTook(fake, spareFor(pacer), fairFor(pacer));
    expect(fake.getChangeCalls).toHaveLength(1);
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThanOrEqual(350);
  });

  it('GIVEN a full Route 53 bucket shared by 19 other runs (an evacuation in full swing) THEN one GetChange, a second after the change', async () => {
    const pacer = await sharedPacer(19);
    const fake = route53(300);
    const took = await switchTook(fake, spareFor(pacer), fairFor(pacer));
    expect(fake.getChangeCalls).toHaveLength(1);
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThanOrEqual(1_050);
  });

  it('GIVEN a Route 53 bucket below half, shared by two other runs THEN the wait keeps its short-budget second', async () => {
    const pacer = await sharedPacer(2, 40);
    const fake = route53(300);
    const took = await switchTook(fake, spareFor(pacer), fairFor(pacer));
    expect(fake.getChangeCalls).toHaveLength(1);
    expect(took).toBeGreaterThanOrEqual(1_000);
  });

  it('GIVEN a plan run that read the zone half a second ago (one other run) THEN the failover keeps its quick polls', async () => {
    // Counting any other run, the demo's failover right after its plan waited a second for its first GetChange.
    const pacer = new AwsPacer();
    await pacer.take('route53', 'global', undefined, 'plan-run');
    await jest.advanceTimersByTimeAsync(500);
    const took = await switchTook(route53(300), spareFor(pacer));
    expect(took).toBeLessThanOrEqual(325);
  });

  it('GIVEN two runs that drew 2 s ago (ended) THEN the failover keeps its quick polls', async () => {
    const pacer = new AwsPacer();
    await pacer.take('route53', 'global', undefined, 'previous-run');
    await pacer.take('route53', 'global', undefined, 'plan-run');
    await jest.advanceTimersByTimeAsync(2_000);
    const took = await switchTook(route53(300), spareFor(pacer));
    expect(took).toBeLessThanOrEqual(325);
  });
});
