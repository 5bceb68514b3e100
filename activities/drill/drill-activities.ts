import type { DrillActivities } from '../drill-contracts';
import type { PostgresPort } from '../database/postgres-port';
import type { RdsPort } from '../database/rds-port';
import { PermanentFailure, permanentFailure } from '../failures';
import type { ResolveHost } from '../../kinds/probe/sql-probe';
import { runCanary } from './canary';
import type { CanaryPort } from './canary-port';
import { workerClock, type DrillClock } from './drill-clock';
import { injectFailure } from './inject-failure';
import { measureDataLoss } from './measure-data-loss';
import { probeUntilRestored } from './restoration-probe';
import { runCommand as execRunCommand, type RunCommand } from './run-command';

export interface DrillActivityDeps {
  /** The canary's session port; absent on a worker not set up for drills (the activities then say so). */
  canary?: CanaryPort;
  postgres: PostgresPort;
  rds: RdsPort;
  resolveHost: ResolveHost;
  /** Defaults to `execFile`. */
  runCommand?: RunCommand;
  /** The worker's named failure-injection commands (config `drill.injections`). Default none. */
  injections?: Readonly<Record<string, readonly string[]>>;
  /** Defaults to the worker clock with Temporal's heartbeat and cancellation-aware sleep. */
  clock?: DrillClock;
}

/** The drill's data-plane activities: canary, failure injection, restoration probe, data-loss measurement. */
export function createDrillActivities(deps: DrillActivityDeps): DrillActivities {
  const clock = deps.clock ?? workerClock;
  const canaryPort = (): CanaryPort => {
    if (deps.canary) return deps.canary;
    throw permanentFailure(
      PermanentFailure.ConfigurationMissing,
      'this worker has no canary port: build it with createCanaryAdapter({ connections: config.postgres.connections }) and pass it as ports.canary',
    );
  };
  return {
    runCanary: async (input) => runCanary(input, { canary: canaryPort(), clock }),
    injectFailure: async (input) =>
      injectFailure(input, {
        postgres: deps.postgres,
        rds: deps.rds,
        runCommand: deps.runCommand ?? execRunCommand,
        injections: deps.injections ?? {},
        clock,
      }),
    probeUntilRestored: async (input) =>
      probeUntilRestored(input, { postgres: deps.postgres, resolveHost: deps.resolveHost, clock }),
    measureDataLoss: async (input) => measureDataLoss(input, { canary: canaryPort() }),
  };
}
