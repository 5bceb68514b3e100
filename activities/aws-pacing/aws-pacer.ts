import { TokenBucket } from 'limiter';
import { AWS_API_LIMITS, type ApiRate, type AwsPacingLimits, type PacedApi } from './api-limits';

/** What pacing did to one bucket's calls, for benchmarks and the worker log. */
export interface PacingStats {
  calls: number;
  /** Calls that had to wait for a token, and the total wait. */
  waited: number;
  waitedMs: number;
  /** Throttling answers seen despite the pacing (another client of the account, or clocks apart). */
  throttles: number;
}

/**
 * Token buckets per account and API, shared by every client and every activity of a worker, so concurrent runs
 * draw on one budget: a call waits for a token instead of being throttled. Buckets start full (a quiet account
 * has its whole burst). With several workers on one task queue each takes an equal share (`setShare`), so
 * together they stay within the account's limits. The buckets are `limiter`'s TokenBucket (FIFO waiters).
 */
export class AwsPacer {
  private readonly buckets = new Map<string, { bucket: TokenBucket; rate: ApiRate; stats: PacingStats }>();
  private share = 1;

  constructor(private readonly limits: AwsPacingLimits = AWS_API_LIMITS) {}

  /** Waits for a token for one call of `api` (in `region` for regional APIs); resolves with the wait in ms. */
  async take(api: PacedApi, region: string): Promise<number> {
    const entry = this.entry(api, region);
    entry.stats.calls++;
    if (entry.bucket.tryRemoveTokens(1)) return 0;
    const started = performance.now();
    await entry.bucket.removeTokens(1);
    const waited = performance.now() - started;
    entry.stats.waited++;
    entry.stats.waitedMs += waited;
    return waited;
  }

  /** AWS throttled a call anyway: empty the bucket, so every caller on this worker waits for the refill. */
  throttled(api: PacedApi, region: string): void {
    const entry = this.entry(api, region);
    entry.stats.throttles++;
    entry.bucket.content = 0;
  }

  /** Splits each account budget among `workers` workers (≥ 1): each bucket holds and refills 1/workers of it. */
  setShare(workers: number): void {
    const share = Math.max(1, Math.floor(workers));
    if (share === this.share) return;
    this.share = share;
    for (const entry of this.buckets.values()) {
      entry.bucket.bucketSize = Math.max(1, entry.rate.burst / share);
      entry.bucket.tokensPerInterval = entry.rate.perSecond / share;
      entry.bucket.content = Math.min(entry.bucket.content, entry.bucket.bucketSize);
    }
  }

  workers(): number {
    return this.share;
  }

  stats(): Record<string, PacingStats> {
    return Object.fromEntries([...this.buckets].map(([key, entry]) => [key, { ...entry.stats }]));
  }

  private entry(api: PacedApi, region: string) {
    const key = api === 'route53' ? 'route53' : `${api}:${region}`;
    let entry = this.buckets.get(key);
    if (entry === undefined) {
      const rate = this.limits[api];
      const bucket = new TokenBucket({
        bucketSize: Math.max(1, rate.burst / this.share),
        tokensPerInterval: rate.perSecond / this.share,
        interval: 'second',
      });
      bucket.content = bucket.bucketSize;
      entry = { bucket, rate, stats: { calls: 0, waited: 0, waitedMs: 0, throttles: 0 } };
      this.buckets.set(key, entry);
    }
    return entry;
  }
}
