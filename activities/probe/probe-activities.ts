import type { ZoneRef } from '../../runbooks/schema';
import type { DrctlActivities, ProbeInput } from '../contracts';
import type { PostgresPort } from '../database/postgres-port';
import { runStep } from '../step-outcome';
import { runHttpProbe } from './http-probe';
import { currentRunId } from './run-id';
import { runSqlProbe } from './sql-probe';

export interface ProbeActivityDeps {
  postgres: PostgresPort;
  /** What the DNS record answers now, e.g. `(zone, name) => resolveRecord(route53, zone, name)`. */
  resolveHost: (zone: ZoneRef, record: string) => Promise<string>;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export type ProbeActivities = Pick<DrctlActivities, 'runProbe'>;

export function createProbeActivities(deps: ProbeActivityDeps): ProbeActivities {
  const fetchImpl = deps.fetch ?? fetch;
  return {
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
