import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult } from '../../activities/contracts';
import { isPostgresUnreachable } from '../../activities/database/postgres-errors';
import type { PostgresPort } from '../../activities/database/postgres-port';
import { resolveRecord } from '../../activities/dns/resolve-record';
import type { ActivityPorts } from '../../activities/ports';
import { measuredChecks, runStep } from '../../activities/step-outcome';
import type { ProbeActivities, ProbeInput, SqlProbe } from './definition';
import { runHttpProbe } from './http-probe';
import { currentRunId } from './run-id';
import { runSqlProbe, type ResolveHost } from './sql-probe';

export interface ProbeActivityDeps {
  postgres: PostgresPort;
  /** What the DNS record answers now, e.g. `(zone, name) => resolveRecord(route53, zone, name)`. */
  resolveHost: ResolveHost;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export function activitiesFromPorts(ports: ActivityPorts): ProbeActivities {
  return createProbeActivities({
    postgres: ports.postgres,
    resolveHost: (zone, record) => resolveRecord(ports.route53, zone, record),
  });
}

export function createProbeActivities(deps: ProbeActivityDeps): ProbeActivities {
  const fetchImpl = deps.fetch ?? fetch;
  return {
    checkProbe: ({ probe }: ProbeInput) =>
      measuredChecks(() => (probe.type === 'sql' ? checkSqlProbe(probe, deps) : Promise.resolve([]))),
    runProbe: ({ probe }: ProbeInput) =>
      runStep(() =>
        probe.type === 'sql'
          ? runSqlProbe(probe, {
              postgres: deps.postgres,
              resolveHost: deps.resolveHost,
              runId: currentRunId(),
            })
          : runHttpProbe(probe, fetchImpl),
      ),
  };
}

/**
 * Pre-flight of a SQL probe, so a misnamed connection or a wrong password is found before anything changes,
 * not after the switch. A host that does not answer now passes: in an outage the name still points at the
 * failed primary, and the probe runs after the switch.
 */
async function checkSqlProbe(probe: SqlProbe, deps: ProbeActivityDeps): Promise<CheckResult[]> {
  const label = (what: string) => `probe ${probe.connection}: ${what}`;
  const results: CheckResult[] = [];
  let host: string | undefined;
  if (probe.via) {
    const check = label(`${probe.via.record} resolves`);
    try {
      host = await deps.resolveHost(probe.via.zone, probe.via.record);
      results.push({ check, ok: true, message: `answers ${host}` });
    } catch (error) {
      results.push({ check, ok: false, message: verdictOrThrow(error) });
      return results;
    }
  }
  const check = label('connection configured and credentials accepted');
  try {
    const reached = await deps.postgres.probe(probe.connection, {
      host,
      write: false,
      runId: currentRunId(),
    });
    results.push({ check, ok: true, message: `select 1 answered at ${reached.address}` });
  } catch (error) {
    if (isPostgresUnreachable(error)) {
      results.push({
        check,
        ok: true,
        message: `${host ?? 'its host'} does not answer now (${(error as Error).message}); the probe runs after the switch`,
      });
    } else if (/is not permitted to log in/.test((error as Error).message)) {
      // A fenced old primary: drctl's PostgreSQL fence takes LOGIN from the application roles, so the role's
      // refusal there is the fence holding, not wrong credentials. The probe runs after the switch.
      results.push({
        check,
        ok: true,
        message: `${host ?? 'its host'} refuses the role's login, as a fenced primary does (${(error as Error).message.split(';')[0]}); the probe runs after the switch`,
      });
    } else {
      results.push({ check, ok: false, message: verdictOrThrow(error) });
    }
  }
  return results;
}

/** A permanent fault (unknown connection, refused credentials, no such record) is a failed check; others retry. */
function verdictOrThrow(error: unknown): string {
  if (error instanceof ApplicationFailure && error.nonRetryable) return error.message;
  throw error;
}
