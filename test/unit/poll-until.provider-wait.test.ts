import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeat, keepAlive, pollUntil } from '../../activities/poll-until';
import { coveredMs, measureProviderTime, timed } from '../../activities/provider-timer';

/** A provider operation that reports "in progress" `busyReads` times, then done. */
function operation(busyReads: number): () => Promise<string> {
  let reads = 0;
  return async () => (++reads > busyReads ? 'INSYNC' : 'PENDING');
}

describe('pollUntil counts waiting on the provider as provider time', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  async function providerMsOf(busyReads: number): Promise<number> {
    const measured = measureProviderTime(() =>
      pollUntil(operation(busyReads), (status) => status === 'INSYNC', { initialIntervalMs: 100 }),
    );
    await jest.advanceTimersByTimeAsync(10_000);
    return (await measured).providerMs;
  }

  it('GIVEN an operation done at the first read THEN no wait is counted', async () => {
    expect(await providerMsOf(0)).toBe(0);
  });

  it('GIVEN an operation still PENDING after the first sleep THEN that sleep counts, the last one does not', async () => {
    // Reads: PENDING, sleep 100, PENDING, sleep 150, INSYNC. The provider was busy through the first sleep; it
    // may have finished at any moment of the second.
    expect(await providerMsOf(2)).toBe(100);
  });

  it('GIVEN three PENDING reads THEN the sleeps before the second and third count (100 + 150 ms)', async () => {
    expect(await providerMsOf(3)).toBe(250);
  });
});

describe('provider time is the time the provider was busy, not the sum of its calls', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** A port whose one call takes `ms`. */
  const port = timed({ call: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) });

  async function providerMsOf(work: () => Promise<unknown>): Promise<number> {
    const measured = measureProviderTime(work);
    await jest.advanceTimersByTimeAsync(10_000);
    return (await measured).providerMs;
  }

  it('GIVEN two 100 ms calls made at once (two flags set in parallel) THEN 100 ms, once', async () => {
    expect(await providerMsOf(() => Promise.all([port.call(100), port.call(100)]))).toBe(100);
  });

  it('GIVEN a 100 ms call, then a 50 ms call alongside a 200 ms one THEN 300 ms', async () => {
    expect(
      await providerMsOf(async () => {
        await port.call(100);
        await Promise.all([port.call(50), port.call(200)]);
      }),
    ).toBe(300);
  });

  it('merges overlapping, nested and touching intervals', () => {
    expect(coveredMs([])).toBe(0);
    expect(
      coveredMs([
        [0, 10],
        [5, 20],
        [6, 7],
        [20, 25],
        [30, 31],
      ]),
    ).toBe(26);
  });
});

describe('keepAlive keeps what a retry resumes from', () => {
  it("GIVEN a retried attempt that has not heartbeated yet WHEN a shared wait keeps it alive THEN the heartbeat carries the previous attempt's details, not none", async () => {
    const resume = { resume: 'dns.switch', zoneId: 'Z1', before: { 'A x.': [30, ['10.0.0.1']] } };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: resume });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));

    await env.run(async () => {
      keepAlive();
      heartbeat({ resume: 'dns.switch', zoneId: 'Z1', before: {} });
      keepAlive();
    });

    expect(beats).toEqual([
      resume,
      { resume: 'dns.switch', zoneId: 'Z1', before: {} },
      { resume: 'dns.switch', zoneId: 'Z1', before: {} },
    ]);
  });
});
