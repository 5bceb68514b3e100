import type { RestorationOutcome, RestorationProbeInput } from '../drill-contracts';
import type { PostgresPort } from '../database/postgres-port';
import { PermanentFailure, permanentFailure } from '../failures';
import { runSqlProbe, type ResolveHost } from '../../kinds/probe/sql-probe';
import { rankedAs } from '../aws-pacing/paced-client';
import type { DrillClock } from './drill-clock';

/**
 * Runs the SQL write probe (through the DNS name, as a client would) every `intervalMs` until one write
 * succeeds. `restoredAt` is taken right after the probe returns: its INSERT committed (autocommit) just before,
 * followed only by a `select pg_is_in_recovery()` round trip, so it is the commit time to within that round trip.
 *
 * Its DNS lookups (Route 53 reads) are ranked in the AWS pacer as of each attempt, not as of the drill's start:
 * the probe runs through the whole failover, and ranked as its old activity it went before every step's calls,
 * so on a small Route 53 budget (5 calls a second, or a worker's share of 10) it took them all and the failover's
 * DNS switch waited until its timeout.
 */
export async function probeUntilRestored(
  input: RestorationProbeInput,
  deps: { postgres: PostgresPort; resolveHost: ResolveHost; clock: DrillClock },
): Promise<RestorationOutcome> {
  const { clock } = deps;
  const intervalMs = input.intervalMs > 0 ? input.intervalMs : 250;
  const startedMs = clock.now().getTime();
  let lastError = 'none';
  for (let attempts = 1; ; attempts += 1) {
    const attemptMs = clock.now().getTime();
    clock.heartbeat({ attempts, lastError });
    try {
      const outcome = await runSqlProbe(
        { ...input.probe, write: true },
        {
          postgres: deps.postgres,
          resolveHost: (zone, record) => rankedAs(Date.now(), () => deps.resolveHost(zone, record)),
          runId: input.drillId,
        },
      );
      const restoredAt = clock.now().toISOString();
      return { restoredAt, attempts, host: String(outcome.facts.host) };
    } catch (error) {
      lastError = (error as Error)?.message ?? String(error);
    }
    const nowMs = clock.now().getTime();
    if (input.maxWaitMs !== undefined && nowMs - startedMs >= input.maxWaitMs) {
      throw permanentFailure(
        PermanentFailure.ProbeFailed,
        `no write through ${input.probe.via?.record ?? `connection ${input.probe.connection}`} succeeded in ${input.maxWaitMs} ms (${attempts} attempts); last error: ${lastError}`,
      );
    }
    await clock.sleep(Math.max(0, attemptMs + intervalMs - nowMs));
  }
}
