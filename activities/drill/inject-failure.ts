import type { InjectFailureInput, InjectFailureOutcome } from '../drill-contracts';
import type { PostgresPort } from '../database/postgres-port';
import type { RdsPort } from '../database/rds-port';
import { PermanentFailure, permanentFailure } from '../failures';
import { currentStepRef } from '../poll-until';
import { withHeartbeats } from '../database/with-heartbeats';
import {
  fenceWithSecurityGroup,
  resolveFenceGroup,
} from '../../providers/database/rds-instance/security-group-fence';
import type { PollPacing } from '../../providers/database/strategy';
import type { DrillClock } from './drill-clock';
import type { RunCommand } from './run-command';

export interface InjectFailureDeps {
  postgres: PostgresPort;
  rds: RdsPort;
  runCommand: RunCommand;
  /** The worker's named failure-injection commands (config `drill.injections`): name → argv. */
  injections: Readonly<Record<string, readonly string[]>>;
  clock: DrillClock;
  /** Timeout of a `stop-primary` command. Default 120 s. */
  commandTimeoutMs?: number;
  /** Pacing of the RDS fence's waits (tests shorten it). */
  poll?: PollPacing;
}

const STOPPED_OR_STOPPING = new Set(['stopped', 'stopping']);

/**
 * Injects the drill's failure into the primary and says when it began (`injectedAt`, just before the first change:
 * reads and refusals before it do not count) and when it was certainly in effect (`inEffectAt`, when it returned),
 * both on the worker clock:
 * - `fence-primary` (PostgreSQL): the PostgresPort's fence (application roles lose their login, read-only,
 *   sessions terminated). Already fenced → `alreadyInEffect`.
 * - `stop-primary` (PostgreSQL): runs the worker's injection command named `inject` (argv, no shell). The name is
 *   looked up in the worker's own configuration; an unknown name is refused.
 * - `fence-primary` (RDS instance): the RDS fence (the fence security group swapped in, then a reboot).
 * - `stop-primary` (RDS instance): StopDBInstance, which AWS refuses while the instance has read replicas (so it is
 *   refused here first, naming fence-primary); in effect when RDS accepted the request. Already stopped or
 *   stopping → `alreadyInEffect`.
 */
export async function injectFailure(
  input: InjectFailureInput,
  deps: InjectFailureDeps,
): Promise<InjectFailureOutcome> {
  const { name, target } = input.database;
  // Set just before the injection's first change.
  let began: Date | undefined;
  const done = (summary: string, alreadyInEffect = false): InjectFailureOutcome => {
    const inEffectAt = deps.clock.now().toISOString();
    return {
      injectedAt: began?.toISOString() ?? inEffectAt,
      inEffectAt,
      action: input.action,
      summary,
      alreadyInEffect,
    };
  };

  if (target.provider === 'postgres') {
    const primary = `${target.primary.endpoint} (${name} primary, connection ${target.primary.connection})`;
    if (input.action === 'fence-primary') {
      began = deps.clock.now();
      // One call that may wait long (a lock on the role catalog, sessions slow to end): heartbeats keep the
      // injection's one attempt from being taken for a dead worker while the fence goes on.
      const fence = await withHeartbeats(
        () =>
          deps.postgres.fence(target.primary.connection, {
            applicationRoles: target.applicationRoles,
            fenceId: currentStepRef(),
          }),
        { waitingFor: `the injected fence of ${primary}` },
      );
      return fence.ownFence
        ? done(
            `fenced ${primary}: application roles ${target.applicationRoles.join(', ')} cannot log in, read-only, ${fence.terminatedSessions} session(s) terminated`,
          )
        : done(
            `${primary} was already fenced (by ${fence.fencedBy}); ${fence.terminatedSessions} session(s) terminated`,
            true,
          );
    }
    const known = Object.keys(deps.injections);
    if (input.inject === undefined) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `stop-primary on self-managed PostgreSQL needs the name of the worker's command that stops ${primary}: pass --inject <name>, one of ${known.join(', ') || '(none configured: add drill.injections to the worker config)'}`,
      );
    }
    const command = Object.hasOwn(deps.injections, input.inject) ? deps.injections[input.inject] : undefined;
    if (command === undefined || command.length === 0) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `no failure injection named "${input.inject}" in this worker's configuration (drill.injections): known ${known.join(', ') || 'none'}; drills run only commands the worker is configured with`,
      );
    }
    began = deps.clock.now();
    const output = await deps.runCommand([...command], { timeoutMs: deps.commandTimeoutMs ?? 120_000 });
    const said = output.stdout.trim().split('\n').pop();
    return done(
      `stopped ${primary} with injection ${input.inject} (\`${command.join(' ')}\`)${said ? `: ${said}` : ''}`,
    );
  }

  if (target.provider === 'rds-instance') {
    const { instanceId, region } = target.primary;
    const instance = await deps.rds.describeInstance(region, instanceId);
    if (instance === null) {
      throw permanentFailure(
        PermanentFailure.NotFound,
        `RDS instance ${instanceId} (${name} primary) does not exist in ${region}; check targets.databases.${name}.primary`,
      );
    }
    if (input.action === 'fence-primary') {
      if (target.fence !== 'security-groups' || target.fenceSecurityGroup === undefined) {
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          `fence-primary on RDS instance ${instanceId} (${name}) swaps in the fence security group: set fence: 'security-groups' and fenceSecurityGroup on the target`,
        );
      }
      const group = await resolveFenceGroup(deps.rds, region, instance, target.fenceSecurityGroup);
      began = deps.clock.now();
      const fence = await fenceWithSecurityGroup(
        deps.rds,
        region,
        instance,
        group,
        currentStepRef(),
        deps.poll ?? {},
      );
      return done(fence.summary, !fence.changed);
    }
    if (STOPPED_OR_STOPPING.has(instance.status)) {
      return done(`RDS instance ${instanceId} was already ${instance.status}`, true);
    }
    if (instance.readReplicas.length > 0) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `stop-primary: AWS refuses StopDBInstance on ${instanceId}, which has read replicas (${instance.readReplicas.join(', ')}); use the fence-primary action, which cuts its clients off with the fence security group`,
      );
    }
    began = deps.clock.now();
    await deps.rds.stopInstance(region, instanceId);
    return done(`StopDBInstance accepted for ${instanceId} in ${region} (was ${instance.status})`);
  }

  throw permanentFailure(
    PermanentFailure.InvalidState,
    `the drill cannot inject ${input.action} into ${target.provider} target ${name}; drills support postgres (fence-primary, stop-primary) and rds-instance (fence-primary, stop-primary)`,
  );
}
