import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Measures the time an activity spends inside provider calls (AWS, PostgreSQL, Unleash), so the timeline can
 * show how much of a step was the provider and how much was waiting. Ports are wrapped once with `timed()` at
 * the composition root; each activity invocation runs inside `measureProviderTime()`, which owns its meter, so
 * concurrent activities in one worker never mix their figures.
 *
 * Provider time is the time during which the provider was busy for the activity: the union of its calls and
 * waits, not their sum, so calls made in parallel (two flags set at once, two members read at once) count once.
 */
interface Meter {
  /** [start, end] of each call and counted wait, in `performance.now()` ms. */
  busy: Array<[number, number]>;
}

const currentMeter = new AsyncLocalStorage<Meter>();

export async function measureProviderTime<T>(
  work: () => Promise<T>,
): Promise<{ result: T; providerMs: number }> {
  const meter: Meter = { busy: [] };
  const result = await currentMeter.run(meter, work);
  return { result, providerMs: Math.round(coveredMs(meter.busy)) };
}

/**
 * Counts a wait on the provider into the current activity's meter: the time between polls of an operation the
 * provider still reported in progress (a Route 53 change PENDING, a promotion not finished), `ms` long and ended
 * at `endedAt` (`performance.now()`). That wait is the provider's work, not drctl's; only the last interval, after
 * which the operation was found done, is not counted (the provider may have finished at any moment of it).
 */
export function countProviderWait(ms: number, endedAt: number): void {
  if (ms > 0) currentMeter.getStore()?.busy.push([endedAt - ms, endedAt]);
}

/** The length of the union of `intervals`. */
export function coveredMs(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [start, end] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const [from, to] of sorted) {
    if (from > end) {
      if (end > start) total += end - start;
      [start, end] = [from, to];
    } else if (to > end) {
      end = to;
    }
  }
  if (end > start) total += end - start;
  return total;
}

/** Returns `port` with every method call timed into the current activity's meter. */
export function timed<T extends object>(port: T): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          currentMeter.getStore()?.busy.push([started, performance.now()]);
        }
      };
    },
  });
}
