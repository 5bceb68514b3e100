/** Calls in flight at once, over every port that shares it. */
export interface InFlight {
  now: number;
  most: number;
}

/**
 * Wraps a port (an object of async methods) so that each call answers `delayMs` later, counting in `inFlight`
 * (shareable between ports) how many calls were in flight at once: a test sees whether independent reads go out
 * together.
 */
export function slowPort<T extends object>(
  target: T,
  inFlight: InFlight = { now: 0, most: 0 },
  delayMs = 20,
): { port: T; inFlight: InFlight } {
  const port = new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        inFlight.most = Math.max(inFlight.most, ++inFlight.now);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        inFlight.now--;
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
  return { port, inFlight };
}
