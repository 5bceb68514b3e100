import { pollUntil } from '../../activities/poll-until';
import { measureProviderTime } from '../../activities/provider-timer';

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
