import type { ZoneRef } from '../../runbooks/schema';
import type { SqlProbe } from '../../runbooks/schema';
import type { StepOutcome } from '../../activities/contracts';
import { PermanentFailure, permanentFailure } from '../../activities/failures';
import type { PostgresPort } from '../../activities/database/postgres-port';
import { failureTypeOf } from '../../common/failure-type-of';

type OutcomeBody = Omit<StepOutcome, 'providerMs' | 'attempt'>;

export type ResolveHost = (zone: ZoneRef, record: string) => Promise<string>;

/**
 * The SQL probe: follows the DNS record to a host as a client would, connects there with the named
 * connection's credentials, and proves the database takes a write (or answers `select 1`).
 */
export async function runSqlProbe(
  probe: SqlProbe,
  deps: { postgres: PostgresPort; resolveHost: ResolveHost; runId: string },
): Promise<OutcomeBody> {
  const where = probe.via ? `${probe.via.record} → ` : '';
  let host: string | undefined;
  try {
    if (probe.via) host = await deps.resolveHost(probe.via.zone, probe.via.record);
    const result = await deps.postgres.probe(probe.connection, {
      host,
      write: probe.write,
      runId: deps.runId,
    });
    if (probe.write && result.inRecovery) {
      throw new Error(`${result.address} took the insert but pg_is_in_recovery() is true`);
    }
    return {
      changed: probe.write,
      summary: probe.write
        ? `wrote drctl_probe row ${result.insertedId ?? '?'} through ${where}${result.address} (connection ${probe.connection}); not in recovery`
        : `select 1 answered at ${where}${result.address} (connection ${probe.connection})`,
      facts: {
        host: result.address,
        record: probe.via?.record ?? null,
        insertedId: result.insertedId,
        inRecovery: result.inRecovery,
      },
    };
  } catch (error) {
    // The worker lacks the connection: a configuration fix, not a database that answers wrong.
    if (failureTypeOf(error) === PermanentFailure.ConfigurationMissing) throw error;
    const reason = (error as Error)?.message ?? String(error);
    const target = `${where}${host ?? "the connection's own host"}`;
    throw permanentFailure(
      PermanentFailure.ProbeFailed,
      `SQL probe (connection ${probe.connection}, ${probe.write ? 'write' : 'read'}) through ${target} failed: ${reason}; ${probe.write ? 'check that DNS names the promoted member and that it takes writes' : 'check that DNS names a member that answers'}`,
    );
  }
}
