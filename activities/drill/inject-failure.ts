import type { InjectFailureInput, InjectFailureOutcome } from '../drill-contracts';
import type { PostgresPort } from '../database/postgres-port';
import type { RdsPort } from '../database/rds-port';
import { PermanentFailure, permanentFailure } from '../failures';
import { currentStepRef } from '../poll-until';
import type { DrillClock } from './drill-clock';
import type { RunCommand } from './run-command';

export interface InjectFailureDeps {
  postgres: PostgresPort;
  rds: RdsPort;
  runCommand: RunCommand;
  clock: DrillClock;
  /** Timeout of a `stop-primary` command. Default 120 s. */
  commandTimeoutMs?: number;
}

const STOPPED_OR_STOPPING = new Set(['stopped', 'stopping']);

/**
 * Injects the drill's failure into the primary and says when it took effect (worker clock):
 * - `fence-primary` (PostgreSQL): the PostgresPort's fence (application roles lose their login, read-only,
 *   sessions terminated); effective when it returns. Already fenced → still timed now, `alreadyInEffect`.
 * - `stop-primary` (PostgreSQL): runs `command` (argv, no shell); effective when it returns.
 * - `stop-primary` (RDS instance): StopDBInstance; timed when RDS accepted the request. Already stopped or
 *   stopping → `alreadyInEffect`.
 */
export async function injectFailure(
  input: InjectFailureInput,
  deps: InjectFailureDeps,
): Promise<InjectFailureOutcome> {
  const { name, target } = input.database;
  const done = (summary: string, alreadyInEffect = false): InjectFailureOutcome => ({
    injectedAt: deps.clock.now().toISOString(),
    action: input.action,
    summary,
    alreadyInEffect,
  });

  if (target.provider === 'postgres') {
    const primary = `${target.primary.endpoint} (${name} primary, connection ${target.primary.connection})`;
    if (input.action === 'fence-primary') {
      const fence = await deps.postgres.fence(target.primary.connection, {
        applicationRoles: target.applicationRoles,
        fenceId: currentStepRef(),
      });
      return fence.ownFence
        ? done(
            `fenced ${primary}: application roles ${target.applicationRoles.join(', ')} cannot log in, read-only, ${fence.terminatedSessions} session(s) terminated`,
          )
        : done(
            `${primary} was already fenced (by ${fence.fencedBy}); ${fence.terminatedSessions} session(s) terminated`,
            true,
          );
    }
    if (!input.command || input.command.length === 0) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `stop-primary on self-managed PostgreSQL needs the command that stops ${primary}; pass it as the drill's command (argv), e.g. ["npx", "tsx", "sandbox/cli.ts", "kill-primary"] for the sandbox`,
      );
    }
    const output = await deps.runCommand(input.command, { timeoutMs: deps.commandTimeoutMs ?? 120_000 });
    const said = output.stdout.trim().split('\n').pop();
    return done(`stopped ${primary} with \`${input.command.join(' ')}\`${said ? `: ${said}` : ''}`);
  }

  if (target.provider === 'rds-instance') {
    const { instanceId, region } = target.primary;
    if (input.action === 'fence-primary') {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `fence-primary is not available for RDS instance ${instanceId} (${name}): RDS has no read-only switch drctl can flip; use the stop-primary action`,
      );
    }
    const instance = await deps.rds.describeInstance(region, instanceId);
    if (instance === null) {
      throw permanentFailure(
        PermanentFailure.NotFound,
        `RDS instance ${instanceId} (${name} primary) does not exist in ${region}; check targets.databases.${name}.primary`,
      );
    }
    if (STOPPED_OR_STOPPING.has(instance.status)) {
      return done(`RDS instance ${instanceId} was already ${instance.status}`, true);
    }
    await deps.rds.stopInstance(region, instanceId);
    return done(`StopDBInstance accepted for ${instanceId} in ${region} (was ${instance.status})`);
  }

  throw permanentFailure(
    PermanentFailure.InvalidState,
    `the drill cannot inject ${input.action} into ${target.provider} target ${name}; drills support postgres (fence-primary, stop-primary) and rds-instance (stop-primary)`,
  );
}
