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
 * How much later than its token a call may reach AWS without being throttled: network and event-loop delays.
 * AWS's bucket sees a call when it arrives, not when the pacer let it go; a first call that arrives late starts
 * AWS's view of the burst late, and calls behind it that arrive on time find AWS's bucket a token short.
 */
export const ARRIVAL_JITTER_MS = 500;

/**
 * Token buckets per account and API, shared by every client and every activity of a worker, so concurrent runs
 * draw on one budget: a call waits for a token instead of being throttled. Buckets start full (a quiet account
 * has its whole burst) less the tokens AWS refills in `ARRIVAL_JITTER_MS`, held back so that calls reaching AWS
 * later than paced are still within its bucket; the refill rate is AWS's. With several workers on one task
 * queue each takes an equal share (`setShare`), so together they stay within the account's limits. The buckets
 * are `limiter`'s TokenBucket (FIFO waiters).
 */
export class AwsPacer {
  private readonly buckets = new Map<string, { bucket: TokenBucket; rate: ApiRate; stats: PacingStats }>();
  private share = 1;

  constructor(
    private readonly limits: AwsPacingLimits = AWS_API_LIMITS,
    private readonly jitterMs: number = ARRIVAL_JITTER_MS,
  ) {}

  /** The bucket one worker keeps for `rate`: its share of the burst, less the jitter reserve, at least 1. */
  private sizeOf(rate: ApiRate): number {
    const reserve = Math.ceil(((rate.perSecond / this.share) * this.jitterMs) / 1000);
    return Math.max(1, rate.burst / this.share - reserve);
  }

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
      entry.bucket.bucketSize = this.sizeOf(entry.rate);
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
        bucketSize: this.sizeOf(rate),
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
