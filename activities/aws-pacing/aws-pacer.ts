import { Heap } from 'heap-js';
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
 * How recently another run must have drawn on a bucket to count as sharing it (`hasSpare` with `share`): while an
 * evacuation's services switch, one or another of them draws on Route 53 several times a second (reads ahead,
 * swaps, GetChange, read-backs), so the bucket may refill between bursts, but the runs come back for it. A run
 * quiet for longer has most likely ended.
 */
export const SHARED_WINDOW_MS = 1_500;

/**
 * The bucket one of `workers` workers keeps for `rate`: its share of the burst, less the tokens its share refills
 * in `jitterMs` (held back for calls reaching AWS later than paced), at least 1.
 */
export function keptBurst(rate: ApiRate, workers = 1, jitterMs = ARRIVAL_JITTER_MS): number {
  const reserve = Math.ceil(((rate.perSecond / workers) * jitterMs) / 1000);
  return Math.max(1, rate.burst / workers - reserve);
}

/** A call waiting for a token: served lowest `priority` first, then in arrival order. */
interface Waiter {
  priority: number;
  arrival: number;
  grant: () => void;
}

interface Entry {
  bucket: TokenBucket;
  /** When each run last drew on the bucket (runs that drew within `SHARED_WINDOW_MS`, and a few older ones). */
  drawnBy: Map<string, number>;
  rate: ApiRate;
  stats: PacingStats;
  waiters: Heap<Waiter>;
  /** The timer that serves the waiters when the next token drips in; one per bucket however long the queue. */
  wake?: NodeJS.Timeout;
}

/**
 * Token buckets per account and API, shared by every client and every activity of a worker, so concurrent runs
 * draw on one budget: a call waits for a token instead of being throttled. Buckets start full (a quiet account
 * has its whole burst) less the tokens AWS refills in `ARRIVAL_JITTER_MS`, held back so that calls reaching AWS
 * later than paced are still within its bucket; the refill rate is AWS's. With several workers on one task
 * queue each takes an equal share (`setShare`), so together they stay within the account's limits. The buckets
 * are `limiter`'s TokenBucket.
 *
 * Waiting calls are served by priority, not in arrival order: callers pass when their step was scheduled, so the
 * oldest step's next call goes first. In an evacuation every service's fence draws on one RDS bucket; served in
 * arrival order each fence's second call queues behind every other fence's first, all of them finish together at
 * the end, and every promotion and DNS switch then piles up behind them. Oldest step first, the services finish
 * one after another and their later steps overlap the fences still waiting.
 */
export class AwsPacer {
  private readonly buckets = new Map<string, Entry>();
  private share = 1;
  private arrivals = 0;

  private readonly limits: AwsPacingLimits;

  /** `limits` for the APIs it names; AWS's published limits (`AWS_API_LIMITS`) for the others. */
  constructor(
    limits: Partial<AwsPacingLimits> = {},
    private readonly jitterMs: number = ARRIVAL_JITTER_MS,
  ) {
    this.limits = { ...AWS_API_LIMITS, ...limits };
  }

  private sizeOf(rate: ApiRate): number {
    return keptBurst(rate, this.share, this.jitterMs);
  }

  /**
   * Waits for a token for one call of `api` (in `region` for regional APIs); resolves with the wait in ms. Among
   * waiting calls the lowest `priority` goes first (callers pass their step's scheduled time); a call without
   * one ranks as of now. Once `cancelled` aborts (the calling activity was aborted or timed out) the call leaves
   * the queue and rejects with its reason: it is never sent, and its token goes to the next call.
   */
  async take(
    api: PacedApi,
    region: string,
    priority: number = Date.now(),
    run?: string,
    cancelled?: AbortSignal,
  ): Promise<number> {
    cancelled?.throwIfAborted();
    const entry = this.entry(api, region);
    entry.stats.calls++;
    if (run !== undefined) this.drawn(entry, run);
    if (entry.waiters.isEmpty() && entry.bucket.tryRemoveTokens(1)) return 0;
    const started = performance.now();
    await new Promise<void>((grant, refuse) => {
      const leave = () => {
        if (entry.waiters.remove(waiter)) refuse(cancelled?.reason);
      };
      const waiter: Waiter = {
        priority,
        arrival: this.arrivals++,
        grant: () => {
          cancelled?.removeEventListener('abort', leave);
          grant();
        },
      };
      cancelled?.addEventListener('abort', leave, { once: true });
      entry.waiters.push(waiter);
      this.serve(entry);
    });
    const waited = performance.now() - started;
    entry.stats.waited++;
    entry.stats.waitedMs += waited;
    return waited;
  }

  /** Grants the tokens the bucket holds to the first waiters, and sets the timer for the next drip. */
  private serve(entry: Entry): void {
    while (!entry.waiters.isEmpty() && entry.bucket.tryRemoveTokens(1)) entry.waiters.pop()?.grant();
    if (entry.waiters.isEmpty() || entry.wake !== undefined) return;
    entry.wake = setTimeout(
      () => {
        entry.wake = undefined;
        this.serve(entry);
      },
      Math.max(1, entry.bucket.getWaitTime(1)),
    );
  }

  /**
   * Whether this worker's bucket for `api` holds at least `fraction` of its size, with no call waiting: budget no
   * other call needs now, which a wait may spend on polling sooner (a quiet failover's last GetChange), and which
   * is gone as soon as many runs share the bucket (an evacuation), so their waits poll sparingly again. With
   * `share.forRun`, also only while at most `share.others` other runs drew on the bucket in the last
   * `SHARED_WINDOW_MS`: between an evacuation's bursts the bucket refills, but the tokens a wait would spend there
   * are the ones its other services come back for.
   */
  hasSpare(
    api: PacedApi,
    region: string,
    fraction = 0.5,
    share?: { forRun: string | undefined; others: number },
  ): boolean {
    const entry = this.entry(api, region);
    if (this.short(entry, fraction)) return false;
    if (share?.forRun === undefined) return true;
    return this.othersDrawing(entry, share.forRun) <= share.others;
  }

  /**
   * How often `forRun` may call `api` while the bucket is not short (at least `fraction` full, nobody waiting) if
   * it and every other run that drew on it lately (`SHARED_WINDOW_MS`) share this worker's refill evenly: (runs ÷
   * refill rate), in ms. Infinity while the bucket is short. Three runs on Route 53's 10/s may each poll every
   * 300 ms; twenty, every two seconds. Runs whose polls have grown further apart than the window are not counted:
   * a new wait's share is then larger than strictly fair, which the half-full bound keeps affordable.
   */
  fairShareIntervalMs(api: PacedApi, region: string, forRun: string | undefined, fraction = 0.5): number {
    const entry = this.entry(api, region);
    if (this.short(entry, fraction)) return Number.POSITIVE_INFINITY;
    const runs = 1 + this.othersDrawing(entry, forRun);
    return (runs / entry.bucket.tokensPerInterval) * 1000;
  }

  /** Whether calls wait for the bucket's tokens, or it holds less than `fraction` of its size. */
  private short(entry: Entry, fraction: number): boolean {
    entry.bucket.drip();
    return !entry.waiters.isEmpty() || entry.bucket.content < entry.bucket.bucketSize * fraction;
  }

  /** How many runs other than `run` drew on the bucket within `SHARED_WINDOW_MS`. */
  private othersDrawing(entry: Entry, run: string | undefined): number {
    const since = Date.now() - SHARED_WINDOW_MS;
    let others = 0;
    for (const [other, at] of entry.drawnBy) if (other !== run && at >= since) others++;
    return others;
  }

  /**
   * How long this worker's bucket for `api` takes to grant a token to every call waiting for one now, at its refill
   * rate: 0 with nobody waiting.
   */
  queueDrainMs(api: PacedApi, region: string): number {
    const { waiters, bucket } = this.entry(api, region);
    if (waiters.isEmpty()) return 0;
    bucket.drip();
    return (Math.max(0, waiters.length - bucket.content) / bucket.tokensPerInterval) * 1000;
  }

  /** Notes that `run` drew on the bucket now, forgetting runs that have not drawn for a window once many have. */
  private drawn(entry: Entry, run: string): void {
    const now = Date.now();
    entry.drawnBy.delete(run);
    entry.drawnBy.set(run, now); // the map stays in order of last draw, oldest first
    if (entry.drawnBy.size <= 64) return;
    for (const [other, at] of entry.drawnBy) {
      if (at >= now - SHARED_WINDOW_MS) break;
      entry.drawnBy.delete(other);
    }
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

  /** How many runs the pacer remembers drawing on the bucket (bounded: see `drawn`). */
  runsRemembered(api: PacedApi, region: string): number {
    return this.entry(api, region).drawnBy.size;
  }

  workers(): number {
    return this.share;
  }

  stats(): Record<string, PacingStats> {
    return Object.fromEntries([...this.buckets].map(([key, entry]) => [key, { ...entry.stats }]));
  }

  private entry(api: PacedApi, region: string): Entry {
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
      entry = {
        bucket,
        rate,
        drawnBy: new Map(),
        stats: { calls: 0, waited: 0, waitedMs: 0, throttles: 0 },
        waiters: new Heap<Waiter>((a, b) => a.priority - b.priority || a.arrival - b.arrival),
      };
      this.buckets.set(key, entry);
    }
    return entry;
  }
}
