import type { CheckResult } from '../../../activities/contracts';
import { isRegionUnreachable } from '../../../activities/aws-region';
import { checkLine, failureMessageOrThrow } from '../../../activities/database/check-result';
import type { RdsCluster, RdsGlobalCluster } from '../../../activities/database/rds-port';
import { PermanentFailure, permanentFailure } from '../../../activities/failures';
import { pollUntil } from '../../../activities/poll-until';
import { lagCheck, lagGate } from '../lag-gate';
import type { DatabasePorts, DatabaseStrategy, PollPacing, StepContext, TargetOf } from '../strategy';

type GlobalTarget = TargetOf<'aurora-global'>;

/**
 * An Aurora Global Database. Every call goes to the secondary's Region, so a run goes on when the primary's Region
 * is down. Planned: SwitchoverGlobalCluster ("for a healthy global database cluster", no data loss: Aurora
 * synchronizes the secondary before it changes roles — API_SwitchoverGlobalCluster.html). Unplanned:
 * FailoverGlobalCluster with AllowDataLoss (API_FailoverGlobalCluster.html), gated on AuroraGlobalDBRPOLag.
 */
export function createStrategy(
  { rds, lagMetrics }: DatabasePorts,
  poll: PollPacing = {},
): DatabaseStrategy<GlobalTarget> {
  const label = (name: string, t: GlobalTarget) => `aurora global ${t.globalClusterId} (${name})`;
  const lagQuery = (t: GlobalTarget) => ({
    region: t.secondary.region,
    metricName: 'AuroraGlobalDBRPOLag' as const,
    resourceId: t.secondary.clusterId,
  });

  async function requireGlobal(name: string, t: GlobalTarget): Promise<RdsGlobalCluster> {
    const global = await rds.describeGlobalCluster(t.secondary.region, t.globalClusterId);
    if (global === null) {
      throw permanentFailure(
        PermanentFailure.NotFound,
        `${label(name, t)} does not exist (asked in ${t.secondary.region}); check globalClusterId in the runbook`,
      );
    }
    return global;
  }

  async function requireSecondary(name: string, t: GlobalTarget): Promise<RdsCluster & { arn: string }> {
    const cluster = await rds.describeCluster(t.secondary.region, t.secondary.clusterId);
    if (cluster === null || cluster.arn === null) {
      throw permanentFailure(
        PermanentFailure.ReplicaNotFound,
        `secondary cluster ${t.secondary.clusterId} of ${label(name, t)} does not exist in ${t.secondary.region}; check secondary in the runbook`,
      );
    }
    if (cluster.globalClusterId !== null && cluster.globalClusterId !== t.globalClusterId) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `${t.secondary.clusterId} belongs to global cluster ${cluster.globalClusterId}, not ${t.globalClusterId}; fix the runbook`,
      );
    }
    return { ...cluster, arn: cluster.arn };
  }

  const writerArn = (g: RdsGlobalCluster) => g.members.find((m) => m.isWriter)?.clusterArn ?? 'none';

  /** The primary's cluster, or why its Region does not answer. */
  async function viewPrimary(
    t: GlobalTarget,
  ): Promise<{ cluster: RdsCluster | null } | { regionDown: string }> {
    try {
      return { cluster: await rds.describeCluster(t.primary.region, t.primary.clusterId) };
    } catch (error) {
      if (isRegionUnreachable(error)) return { regionDown: (error as Error).message };
      throw error;
    }
  }

  /** Planned: the switchover itself waits for the secondary, so the gate asks only that lag is within maxLag. */
  const gateContext = (context: StepContext): StepContext =>
    context.mode === 'planned'
      ? { mode: 'unplanned', approvals: { unknownLag: context.approvals.unknownLag } }
      : context;

  return {
    async check(name, t, context) {
      const results: CheckResult[] = [];
      let global: RdsGlobalCluster;
      let secondary: RdsCluster & { arn: string };
      try {
        global = await requireGlobal(name, t);
        secondary = await requireSecondary(name, t);
      } catch (error) {
        return [
          checkLine(
            name,
            'global cluster',
            false,
            failureMessageOrThrow(error, () => true),
          ),
        ];
      }
      const isMember = global.members.some((m) => m.clusterArn === secondary.arn);
      results.push(
        checkLine(
          name,
          'secondary is a member',
          isMember,
          isMember
            ? `${t.secondary.clusterId} is a member of ${t.globalClusterId} (writer ${writerArn(global)})`
            : `${secondary.arn} is not a member of ${t.globalClusterId}; fix secondary`,
        ),
      );
      results.push(
        checkLine(
          name,
          'no operation under way',
          global.failover === null,
          global.failover === null
            ? 'FailoverState empty'
            : `a ${global.failover.status} to ${global.failover.toArn} is under way`,
        ),
      );
      const hasInstance = secondary.members.length > 0;
      results.push(
        checkLine(
          name,
          'secondary has an instance',
          hasInstance,
          hasInstance
            ? `${secondary.members.length} instance(s)`
            : 'headless secondary: it has no DB instance to become the writer; add one first',
        ),
      );
      const primary = await viewPrimary(t);
      if ('regionDown' in primary) {
        results.push(
          checkLine(
            name,
            'primary',
            context.mode === 'unplanned',
            context.mode === 'unplanned'
              ? `${primary.regionDown}; treated as down: FailoverGlobalCluster with AllowDataLoss`
              : `${primary.regionDown}; a switchover needs a healthy primary — if this is an outage, use an unplanned runbook`,
          ),
        );
      } else if (primary.cluster !== null && context.mode === 'planned') {
        const same = primary.cluster.engineVersion === secondary.engineVersion;
        results.push(
          checkLine(
            name,
            'same engine version',
            same,
            same
              ? `both ${secondary.engineVersion}`
              : `primary ${primary.cluster.engineVersion} vs secondary ${secondary.engineVersion}: AWS refuses a switchover between engine versions; upgrade one`,
          ),
        );
      }
      results.push(await lagCheck(lagMetrics, name, lagQuery(t), t));
      return results;
    },

    async planFence(name, t, context) {
      return [
        {
          target: `${label(name, t)} primary ${t.primary.clusterId}`,
          current: 'writer',
          desired: `made a read-only secondary by ${context.mode === 'planned' ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster'} (no separate fence)`,
          willChange: false,
        },
      ];
    },

    async planPromote(name, t, context) {
      const global = await requireGlobal(name, t);
      const secondary = await requireSecondary(name, t);
      const already = writerArn(global) === secondary.arn;
      return {
        changes: [
          {
            target: `${label(name, t)} cluster ${t.secondary.clusterId}`,
            current: already ? 'writer' : `secondary (writer ${writerArn(global)})`,
            desired:
              context.mode === 'planned'
                ? 'writer (SwitchoverGlobalCluster, no data loss)'
                : 'writer (FailoverGlobalCluster, AllowDataLoss)',
            willChange: !already,
          },
        ],
        writableEndpoint: requireEndpoint(secondary, label(name, t)),
      };
    },

    async fence(name, t, context) {
      return {
        changed: false,
        summary: `${label(name, t)}: ${context.mode === 'planned' ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster'} makes ${t.primary.clusterId} a read-only secondary; nothing to fence separately`,
        facts: { globalClusterId: t.globalClusterId },
      };
    },

    async unfence(name, t) {
      return {
        changed: false,
        summary: `${label(name, t)}: nothing was fenced, nothing to undo`,
        facts: { globalClusterId: t.globalClusterId },
      };
    },

    async promote(name, t, context) {
      const secondary = await requireSecondary(name, t);
      const settled = (g: RdsGlobalCluster) => g.failover === null;
      const describe = (g: RdsGlobalCluster) => ({
        waitingFor: `${t.globalClusterId} to finish its ${g.failover?.status ?? 'operation'}`,
        writer: writerArn(g),
      });
      let global = await requireGlobal(name, t);
      const inProgress = !settled(global);
      // An operation already under way (an earlier attempt's) settles first; a second one would be refused.
      if (inProgress) global = await pollUntil(() => requireGlobal(name, t), settled, { ...poll, describe });
      let changed = false;
      let gate: { summary: string; facts: Record<string, string | number | boolean | null> } | undefined;
      if (writerArn(global) !== secondary.arn) {
        if (context.mode === 'planned') {
          const primary = await viewPrimary(t);
          if ('regionDown' in primary) {
            throw permanentFailure(
              PermanentFailure.PrimaryUnreachable,
              `${primary.regionDown}; a switchover needs a healthy primary — if this is an outage, fail over with an unplanned runbook (FailoverGlobalCluster with AllowDataLoss)`,
            );
          }
        }
        gate = await lagGate(lagMetrics, lagQuery(t), t, gateContext(context), poll);
        if (context.mode === 'planned') {
          await rds.switchoverGlobalCluster(t.secondary.region, t.globalClusterId, secondary.arn);
        } else {
          await rds.failoverGlobalCluster(t.secondary.region, t.globalClusterId, secondary.arn);
        }
        changed = true;
        global = await pollUntil(
          () => requireGlobal(name, t),
          (g) => settled(g) && writerArn(g) === secondary.arn,
          { ...poll, describe },
        );
      }
      const final = await pollUntil(
        () => requireSecondary(name, t),
        (c) => c.status === 'available' && c.endpoint !== null,
        {
          ...poll,
          describe: (c) => ({ waitingFor: `${t.secondary.clusterId} to be available`, status: c.status }),
        },
      );
      const endpoint = requireEndpoint(final, label(name, t));
      const operation = context.mode === 'planned' ? 'switched over' : 'failed over (AllowDataLoss)';
      return {
        changed,
        summary: changed
          ? `${operation} ${t.globalClusterId} to ${t.secondary.clusterId} in ${t.secondary.region}${gate ? `; ${gate.summary}` : ''}`
          : `${t.secondary.clusterId} is the writer of ${t.globalClusterId}${inProgress ? ' after the operation that was under way' : ' already'}`,
        facts: {
          globalClusterId: t.globalClusterId,
          writer: t.secondary.clusterId,
          operation: context.mode === 'planned' ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster',
          endpoint,
          ...(gate?.facts ?? {}),
        },
        writableEndpoint: endpoint,
      };
    },
  };
}

function requireEndpoint(cluster: RdsCluster, what: string): string {
  if (cluster.endpoint === null) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${what}: cluster ${cluster.clusterId} reports no Endpoint; check it in the RDS console`,
    );
  }
  return cluster.endpoint;
}
