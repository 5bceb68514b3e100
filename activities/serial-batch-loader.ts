import DataLoader from 'dataloader';

/**
 * A DataLoader whose batches go out one round at a time: a round is dispatched only once the previous one has
 * answered, so loads pile up while a call is outstanding and leave together (the busier, the larger the batch;
 * a lone load goes at once). `gatherMs` may hold a round a little longer for more loads. No cache: every load
 * reads afresh. Rounds larger than `maxBatchSize` leave as several calls at once.
 */
export function serialBatchLoader<K, V, C = K>(
  send: (keys: readonly K[]) => Promise<ReadonlyArray<V | Error>>,
  options: { maxBatchSize: number; gatherMs?: () => number; cacheKeyFn?: (key: K) => C },
): DataLoader<K, V, C> {
  let idle: Promise<unknown> = Promise.resolve();
  return new DataLoader<K, V, C>(
    (keys) => {
      const done = send(keys);
      // A round larger than maxBatchSize leaves as several calls: the next round waits for all of them.
      idle = Promise.allSettled([idle, done]);
      return done;
    },
    {
      cache: false,
      maxBatchSize: options.maxBatchSize,
      ...(options.cacheKeyFn === undefined ? {} : { cacheKeyFn: options.cacheKeyFn }),
      batchScheduleFn: (dispatch) =>
        void idle.then(() => {
          const wait = options.gatherMs?.() ?? 0;
          if (wait > 0) setTimeout(dispatch, wait);
          else setImmediate(dispatch);
        }),
    },
  );
}
