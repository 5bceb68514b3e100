import type { CheckResult } from '../../../activities/contracts';
import { PermanentFailure, permanentFailure } from '../../../activities/failures';
import { pollUntil } from '../../../activities/poll-until';
import { checkLine, failureMessageOrThrow } from '../../../activities/database/check-result';
import type { DatabasePorts, DatabaseStrategy, PollPacing, TargetOf } from '../strategy';
import type { RdsCluster } from '../../../activities/database/rds-port';
import { lagCheck, lagGate } from '../lag-gate';

type AuroraTarget = TargetOf<'aurora-cluster'>;

/** An Aurora cluster: fail over to a chosen reader. The failover itself demotes the old writer. */
export function createStrategy(
  { rds, lagMetrics }: DatabasePorts,
  poll: PollPacing = {},
): DatabaseStrategy<AuroraTarget> {
  const label = (name: string, t: AuroraTarget) => `aurora ${t.clusterId} in ${t.region} (${name})`;
  const lagQuery = (t: AuroraTarget) => ({
    region: t.region,
    metricName: 'AuroraReplicaLag' as const,
    resourceId: t.clusterId,
  });

  async function requireCluster(name: string, t: AuroraTarget): Promise<RdsCluster> {
    const cluster = await rds.describeCluster(t.region, t.clusterId);
    if (cluster === null) {
      throw permanentFailure(
        PermanentFailure.NotFound,
        `${label(name, t)} does not exist; check clusterId and region in the runbook`,
      );
    }
    if (!cluster.members.some((m) => m.instanceId === t.targetInstanceId)) {
      throw permanentFailure(
        PermanentFailure.ReplicaNotFound,
        `${t.targetInstanceId} is not a member of ${label(name, t)} (members: ${cluster.members.map((m) => m.instanceId).join(', ') || 'none'}); fix targetInstanceId`,
      );
    }
    return cluster;
  }
  const isWriter = (c: RdsCluster, id: string) => c.members.some((m) => m.instanceId === id && m.isWriter);
  const writerOf = (c: RdsCluster) => c.members.find((m) => m.isWriter)?.instanceId ?? 'none';

  return {
    async check(name, t) {
      const results: CheckResult[] = [];
      let cluster: RdsCluster | null;
      try {
        cluster = await rds.describeCluster(t.region, t.clusterId);
      } catch (error) {
        return [
          checkLine(
            name,
            'cluster exists',
            false,
            failureMessageOrThrow(error, () => false),
          ),
        ];
      }
      if (cluster === null)
        return [
          checkLine(name, 'cluster exists', false, `${label(name, t)} not found; check clusterId and region`),
        ];
      results.push(
        checkLine(name, 'cluster exists', true, `status ${cluster.status}, writer ${writerOf(cluster)}`),
      );
      const member = cluster.members.find((m) => m.instanceId === t.targetInstanceId);
      results.push(
        checkLine(
          name,
          'target reader exists',
          member !== undefined,
          member === undefined
            ? `${t.targetInstanceId} is not a cluster member (members: ${cluster.members.map((m) => m.instanceId).join(', ')}); fix targetInstanceId`
            : member.isWriter
              ? `${t.targetInstanceId} is already the writer`
              : `${t.targetInstanceId} is a reader`,
        ),
      );
      results.push(
        checkLine(name, 'cluster available', cluster.status === 'available', `status ${cluster.status}`),
      );
      results.push(await lagCheck(lagMetrics, name, lagQuery(t), t));
      return results;
    },

    async planFence(name, t) {
      const cluster = await requireCluster(name, t);
      return [
        {
          target: `${label(name, t)} writer ${writerOf(cluster)}`,
          current: 'writer',
          desired: 'demoted to reader by the failover itself (no separate fence)',
          willChange: false,
        },
      ];
    },

    async planPromote(name, t) {
      const cluster = await requireCluster(name, t);
      const already = isWriter(cluster, t.targetInstanceId);
      return {
        changes: [
          {
            target: `${label(name, t)} instance ${t.targetInstanceId}`,
            current: already ? 'writer' : `reader (writer is ${writerOf(cluster)})`,
            desired: 'writer (FailoverDBCluster)',
            willChange: !already,
          },
        ],
        writableEndpoint: requireEndpoint(cluster, label(name, t)),
      };
    },

    async fence(name, t) {
      return {
        changed: false,
        summary: `${label(name, t)}: FailoverDBCluster demotes the old writer; nothing to fence separately`,
        facts: { clusterId: t.clusterId },
      };
    },

    async unfence(name, t) {
      return {
        changed: false,
        summary: `${label(name, t)}: nothing was fenced (FailoverDBCluster demotes the old writer), nothing to undo`,
        facts: { clusterId: t.clusterId },
      };
    },

    async promote(name, t, context) {
      // A failover already under way (an earlier attempt's, or anyone's) settles first: FailoverDBCluster is
      // refused while the cluster is failing over (InvalidDBClusterStateFault), and that is no reason to give up.
      const settle = () =>
        pollUntil(
          () => requireCluster(name, t),
          (c) => c.status === 'available',
          {
            ...poll,
            describe: (c) => ({
              waitingFor: `${t.clusterId} to be available`,
              status: c.status,
              writer: writerOf(c),
            }),
          },
        );
      const before = await requireCluster(name, t);
      const inProgress = before.status !== 'available';
      const cluster = inProgress ? await settle() : before;
      let changed = false;
      let gate: { summary: string; facts: Record<string, string | number | boolean | null> } | undefined;
      if (!isWriter(cluster, t.targetInstanceId)) {
        gate = await lagGate(lagMetrics, lagQuery(t), t, context, poll);
        try {
          await rds.failoverCluster(t.region, t.clusterId, t.targetInstanceId);
        } catch (error) {
          if ((error as { type?: string }).type !== PermanentFailure.InvalidState) throw error;
          const now = await requireCluster(name, t);
          if (now.status === 'available') throw error;
        }
        changed = true;
      }
      const final = await pollUntil(
        () => requireCluster(name, t),
        (c) => isWriter(c, t.targetInstanceId) && c.status === 'available',
        {
          ...poll,
          describe: (c) => ({
            waitingFor: `${t.targetInstanceId} to become writer`,
            writer: writerOf(c),
            status: c.status,
          }),
        },
      );
      const endpoint = requireEndpoint(final, label(name, t));
      return {
        changed,
        summary: changed
          ? `failed ${t.clusterId} over to ${t.targetInstanceId}${gate ? `; ${gate.summary}` : ''}`
          : inProgress
            ? `${t.targetInstanceId} is the writer of ${t.clusterId} after the failover that was under way`
            : `${t.targetInstanceId} was already the writer of ${t.clusterId}`,
        facts: { clusterId: t.clusterId, writer: t.targetInstanceId, endpoint, ...(gate?.facts ?? {}) },
        writableEndpoint: endpoint,
      };
    },
  };
}

function requireEndpoint(cluster: RdsCluster, what: string): string {
  if (cluster.endpoint === null) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${what} reports no cluster Endpoint; check the cluster in the RDS console`,
    );
  }
  return cluster.endpoint;
}
