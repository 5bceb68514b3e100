import { heartbeat, sleep } from '../poll-until';

/**
 * The worker clock and pacing the drill activities share. The canary's `written_at`, the injection time and
 * the restoration time all come from `now`, so RTO and RPO are differences on one clock. Tests hand in a fake.
 */
export interface DrillClock {
  now: () => Date;
  /** Cancellation-aware inside an activity. */
  sleep: (ms: number) => Promise<void>;
  heartbeat: (details?: unknown) => void;
}

export const workerClock: DrillClock = { now: () => new Date(), sleep, heartbeat };
