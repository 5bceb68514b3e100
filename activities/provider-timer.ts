import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Measures the time an activity spends inside provider calls (AWS, PostgreSQL, Unleash), so the timeline can
 * show how much of a step was the provider and how much was waiting. Ports are wrapped once with `timed()` at
 * the composition root; each activity invocation runs inside `measureProviderTime()`, which owns its meter, so
 * concurrent activities in one worker never mix their figures.
 */
interface Meter {
  providerMs: number;
}

const currentMeter = new AsyncLocalStorage<Meter>();

export async function measureProviderTime<T>(
  work: () => Promise<T>,
): Promise<{ result: T; providerMs: number }> {
  const meter: Meter = { providerMs: 0 };
  const result = await currentMeter.run(meter, work);
  return { result, providerMs: Math.round(meter.providerMs) };
}

/**
 * Counts `ms` of waiting on the provider into the current activity's meter: time between polls of an operation the
 * provider still reported in progress (a Route 53 change PENDING, a promotion not finished). That wait is the
 * provider's work, not drctl's; only the last interval, after which the operation was found done, is not counted
 * (the provider may have finished at any moment of it).
 */
export function countProviderWait(ms: number): void {
  const meter = currentMeter.getStore();
  if (meter) meter.providerMs += ms;
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
          const meter = currentMeter.getStore();
          if (meter) meter.providerMs += performance.now() - started;
        }
      };
    },
  });
}
