/**
 * Maps `items` through `work` with at most `limit` calls in flight, results in the items' order. The first failure
 * rejects the whole map and no further item starts (calls already in flight finish on their own). For reads that
 * are each one request (an evidence chain's objects): a request's latency, not its bytes, is what a long serial
 * walk waits on. (p-map does this but ships only as an ES module, which this CommonJS build cannot load in jest.)
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const lanes = Math.min(Math.max(1, Math.floor(limit) || 1), Math.max(1, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}
