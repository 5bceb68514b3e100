import type { CheckResult } from '../../../activities/contracts';
import { isRegionUnreachable } from '../../../activities/aws-region';
import { PermanentFailure, permanentFailure } from '../../../activities/failures';
import { currentStepRef, pollUntil } from '../../../activities/poll-until';
import { checkLine, failureMessageOrThrow } from '../../../activities/database/check-result';
import { sourceNames, type RdsInstance } from '../../../activities/database/rds-port';
import { lagCheck, lagGate } from '../lag-gate';
import type {
  DatabasePorts,
  DatabaseStrategy,
  FenceUndoDetail,
  PollPacing,
  StepContext,
  TargetOf,
} from '../strategy';
import {
  decodeFenceTags,
  fenceWithSecurityGroup,
  fenceGroupIdForUndo,
  resolveFenceGroup,
  unfenceRecorded,
  unfenceSecurityGroup,
} from './security-group-fence';

type RdsTarget = TargetOf<'rds-instance'>;

/** The primary as seen from its Region: the instance, gone (null), or its Region not answering. */
type PrimaryView = { instance: RdsInstance | null } | { regionDown: string };

/** The reads a check asks for at once. */
interface CheckReads {
  replica: Promise<RdsInstance | null>;
  primary: Promise<PrimaryView>;
  lag: Promise<CheckResult>;
}

/** An RDS instance with a read replica: check, fence the old primary (security groups), promote the replica. */
export function createStrategy(
  { rds, lagMetrics }: DatabasePorts,
  poll: PollPacing = {},
): DatabaseStrategy<RdsTarget> {
  const label = (name: string, t: RdsTarget, role: 'primary' | 'replica') =>
    `rds ${t[role].instanceId} in ${t[role].region} (${name} ${role})`;

  async function requireReplica(name: string, t: RdsTarget): Promise<RdsInstance> {
    const replica = await rds.describeInstance(t.replica.region, t.replica.instanceId);
    if (replica === null) {
      throw permanentFailure(
        PermanentFailure.ReplicaNotFound,
        `${label(name, t, 'replica')} does not exist; check replica.instanceId and replica.region in the runbook`,
      );
    }
    return replica;
  }

  async function viewPrimary(t: RdsTarget): Promise<PrimaryView> {
    try {
      return { instance: await rds.describeInstance(t.primary.region, t.primary.instanceId) };
    } catch (error) {
      if (isRegionUnreachable(error)) return { regionDown: (error as Error).message };
      throw error;
    }
  }

  const lagQuery = (t: RdsTarget) => ({
    region: t.replica.region,
    metricName: 'ReplicaLag' as const,
    resourceId: t.replica.instanceId,
  });

  /** The checks of `check`, in order, from its reads (asked at once). */
  async function checkFrom(
    name: string,
    t: RdsTarget,
    context: StepContext,
    { replica: replicaRead, primary: primaryRead, lag: lagRead }: CheckReads,
  ): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    let replica: RdsInstance | null;
    try {
      replica = await replicaRead;
    } catch (error) {
      return [checkLine(name, 'replica exists', false, failureMessageOrThrow(error, isRegionUnreachable))];
    }
    if (replica === null) {
      return [
        checkLine(
          name,
          'replica exists',
          false,
          `${label(name, t, 'replica')} not found; check the id and region in the runbook`,
        ),
      ];
    }
    results.push(
      checkLine(
        name,
        'replica exists',
        true,
        `${replica.instanceId} found, endpoint ${replica.endpoint ?? '?'}`,
      ),
    );
    const source = replica.replicaOf;
    const ofPrimary = source !== null && sourceNames(source, t.primary.instanceId);
    results.push(
      checkLine(
        name,
        'replica of the primary',
        ofPrimary,
        ofPrimary
          ? `ReadReplicaSourceDBInstanceIdentifier is ${source}`
          : source === null
            ? `${replica.instanceId} is not a read replica (promoted already?); check which instance is the primary`
            : `${replica.instanceId} replicates from ${source}, not ${t.primary.instanceId}; fix primary.instanceId in the runbook`,
      ),
    );
    results.push(
      checkLine(
        name,
        'replica available',
        replica.status === 'available',
        `status ${replica.status}${replica.status === 'available' ? '' : '; wait until it is available'}`,
      ),
    );
    const primary = await primaryRead;
    if ('regionDown' in primary) {
      results.push(
        checkLine(
          name,
          'primary',
          context.mode === 'unplanned',
          context.mode === 'unplanned'
            ? `${primary.regionDown}; treated as down: the fence will ask to go on unfenced`
            : `${primary.regionDown}; a planned failover needs the primary's Region — if this is an outage, use an unplanned runbook`,
        ),
      );
    } else if (primary.instance === null) {
      results.push(checkLine(name, 'primary', true, `${t.primary.instanceId} not found (treated as gone)`));
    } else {
      results.push(
        checkLine(name, 'primary', true, `${t.primary.instanceId} status ${primary.instance.status}`),
      );
      if (t.fence === 'security-groups' && t.fenceSecurityGroup !== undefined) {
        try {
          const group = await resolveFenceGroup(
            rds,
            t.primary.region,
            primary.instance,
            t.fenceSecurityGroup,
          );
          results.push(
            checkLine(
              name,
              'fence security group',
              true,
              `${group} (${t.fenceSecurityGroup}) has no inbound rules`,
            ),
          );
        } catch (error) {
          results.push(
            checkLine(
              name,
              'fence security group',
              false,
              failureMessageOrThrow(error, () => false),
            ),
          );
        }
      }
    }
    results.push(await lagRead);
    return results;
  }

  return {
    async check(name, t, context) {
      // The replica, the primary and the replica's lag are independent reads: asked at once (each joins its
      // region's describe round, or the lag reads'), then the fence group, which needs the primary's VPC. The
      // checks keep their order. However the check ends (no replica, a read that failed), it waits for every read:
      // a read must not outlive (and heartbeat after) its activity.
      const reads: CheckReads = {
        replica: rds.describeInstance(t.replica.region, t.replica.instanceId),
        primary: viewPrimary(t),
        lag: lagCheck(lagMetrics, name, lagQuery(t), t),
      };
      for (const read of Object.values(reads)) read.catch(() => undefined);
      try {
        return await checkFrom(name, t, context, reads);
      } finally {
        await Promise.allSettled(Object.values(reads));
      }
    },

    async planFence(name, t) {
      const primary = await viewPrimary(t);
      const current =
        'regionDown' in primary
          ? `region ${t.primary.region} unreachable`
          : primary.instance === null
            ? 'not found (treated as gone)'
            : `status ${primary.instance.status}, security groups ${primary.instance.securityGroups.map((g) => g.id).join(', ') || 'none'}`;
      if (t.fence === 'none') {
        return [
          {
            target: label(name, t, 'primary'),
            current,
            desired: 'left as is (fence: none)',
            willChange: false,
          },
        ];
      }
      const instance = 'regionDown' in primary ? null : primary.instance;
      // A tag alone is no fence (one that failed before its swap, or was lifted by hand, leaves it): fenced when
      // the instance also carries one group only, the fence group (named by id; by name, one the fence did not
      // replace: the plan reads no groups by name).
      const marker = instance === null ? null : decodeFenceTags(instance.tags);
      const groups = instance?.securityGroups.map((g) => g.id) ?? [];
      const named = t.fenceSecurityGroup ?? '';
      const only = groups.length === 1 ? (groups[0] ?? '') : undefined;
      const fenced =
        marker !== null &&
        only !== undefined &&
        (named.startsWith('sg-') ? only === named : !marker.previousGroups.includes(only));
      const willChange = instance !== null && !fenced;
      return [
        {
          target: label(name, t, 'primary'),
          current: fenced ? `${current} (fenced)` : current,
          desired: `only security group ${t.fenceSecurityGroup ?? '?'} (no inbound rules), rebooted to end open sessions`,
          willChange,
          // The groups the fence replaces, recorded with the step's undo before the fence (no tag on the instance).
          ...(willChange ? { undoDetail: { previousGroups: instance.securityGroups.map((g) => g.id) } } : {}),
        },
      ];
    },

    async planPromote(name, t) {
      const replica = await requireReplica(name, t);
      return {
        changes: [
          {
            target: label(name, t, 'replica'),
            current:
              replica.replicaOf === null
                ? `standalone (not a replica), status ${replica.status}`
                : `read replica of ${replica.replicaOf}, status ${replica.status}`,
            desired: 'standalone primary (PromoteReadReplica), available',
            willChange: replica.replicaOf !== null,
          },
        ],
        writableEndpoint: requireEndpoint(replica.endpoint, label(name, t, 'replica')),
      };
    },

    async fence(name, t, context, recorded) {
      const facts = { primary: t.primary.instanceId, region: t.primary.region };
      if (t.fence === 'none') {
        return { changed: false, summary: `fence is 'none': ${t.primary.instanceId} left as is`, facts };
      }
      const primary = await viewPrimary(t);
      if ('regionDown' in primary) {
        if (context.mode === 'planned') {
          throw permanentFailure(
            PermanentFailure.PrimaryUnreachable,
            `${primary.regionDown}; a planned failover fences a reachable primary — if this is an outage, use an unplanned runbook`,
          );
        }
        return {
          changed: false,
          summary: `could not fence ${t.primary.instanceId}: ${primary.regionDown}`,
          facts: { ...facts, primaryReachable: false, unreachable: 'region' },
        };
      }
      if (primary.instance === null) {
        return {
          changed: false,
          summary: `${label(name, t, 'primary')} not found: treated as gone, nothing to fence`,
          facts: { ...facts, primaryReachable: true, primaryExists: false },
        };
      }
      const fenceGroup = await resolveFenceGroup(
        rds,
        t.primary.region,
        primary.instance,
        t.fenceSecurityGroup ?? '',
      );
      const outcome = await fenceWithSecurityGroup(
        rds,
        t.primary.region,
        primary.instance,
        fenceGroup,
        currentStepRef(),
        poll,
        {
          recordedGroups: recordedGroups(recorded),
          recordedByEarlierExecution: recorded?.byEarlierExecution === true,
          run: context.fenceRun,
        },
      );
      return {
        changed: outcome.changed,
        summary: outcome.summary,
        facts: {
          ...facts,
          primaryReachable: true,
          fenceSecurityGroup: fenceGroup,
          previousSecurityGroups: outcome.previousGroups.join(', '),
          fencedBy: outcome.fencedBy,
          ...(outcome.fencedByThisRun ? {} : { fencedByAnother: true }),
        },
        ...(outcome.changed ? { undo: { fenceId: outcome.fencedBy } } : {}),
      };
    },

    async unfence(name, t, undo) {
      const { region, instanceId } = t.primary;
      const facts = { primary: instanceId, region };
      if (t.fence === 'none') {
        return {
          changed: false,
          summary: `fence is 'none': ${instanceId} was left as is, nothing to undo`,
          facts,
        };
      }
      const primary = await rds.describeInstance(region, instanceId);
      if (primary === null) {
        throw permanentFailure(
          PermanentFailure.NotFound,
          `${label(name, t, 'primary')} not found: its security groups cannot be restored; check the id and region in the runbook`,
        );
      }
      const recorded = recordedGroups(undo);
      // A tag (an earlier version's fence, or groups that changed after the plan) says what to restore; else
      // the groups the run recorded before its fence.
      const outcome =
        recorded !== undefined && decodeFenceTags(primary.tags) === null
          ? await unfenceRecorded(
              rds,
              region,
              primary,
              await fenceGroupIdForUndo(rds, region, primary, t.fenceSecurityGroup ?? ''),
              recorded,
              poll,
            )
          : await unfenceSecurityGroup(
              rds,
              region,
              primary,
              typeof undo.fenceId === 'string' ? undo.fenceId : undefined,
              poll,
            );
      return {
        changed: outcome.changed,
        summary: outcome.summary,
        facts: { ...facts, restoredSecurityGroups: outcome.restored.join(', ') },
      };
    },

    async promote(name, t, context) {
      const { region, instanceId } = t.replica;
      let replica = await requireReplica(name, t);
      let changed = false;
      // RDS forgets the source once the promotion completes; the step's facts keep it for the record.
      let promotedFrom: string | null = null;
      let gate: { summary: string; facts: Record<string, string | number | boolean | null> } | undefined;
      if (replica.replicaOf !== null) {
        // A replica busy with an earlier change (or a promotion an earlier attempt started) must settle first.
        replica = await pollUntil(
          () => requireReplica(name, t),
          (r) => r.status === 'available' || r.replicaOf === null,
          {
            ...poll,
            describe: (r) => ({
              waitingFor: `${instanceId} to be available before promoting`,
              status: r.status,
            }),
          },
        );
        if (replica.replicaOf !== null) {
          gate = await lagGate(lagMetrics, lagQuery(t), t, context, poll);
          await rds.promoteReadReplica(region, instanceId);
          promotedFrom = replica.replicaOf;
          changed = true;
        }
      }
      const final = await pollUntil(
        () => requireReplica(name, t),
        (r) => r.status === 'available' && r.replicaOf === null,
        {
          ...poll,
          describe: (r) => ({
            waitingFor: `${instanceId} to finish promotion`,
            status: r.status,
            replicaOf: r.replicaOf,
          }),
        },
      );
      const endpoint = requireEndpoint(final.endpoint, label(name, t, 'replica'));
      return {
        changed,
        summary: changed
          ? `promoted ${instanceId}: standalone and available at ${endpoint}${gate ? `; ${gate.summary}` : ''}`
          : `${instanceId} was already promoted (not a read replica); available at ${endpoint}`,
        facts: {
          instanceId,
          region,
          status: final.status,
          endpoint,
          ...(promotedFrom === null ? {} : { promotedFrom }),
          ...(gate?.facts ?? {}),
        },
        writableEndpoint: endpoint,
      };
    },
  };
}

function requireEndpoint(endpoint: string | null, what: string): string {
  if (endpoint === null) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${what} reports no Endpoint.Address; check the instance in the RDS console`,
    );
  }
  return endpoint;
}

/** The security groups a run recorded before its fence (`undoDetail.previousGroups` of the plan), if any. */
function recordedGroups(detail: FenceUndoDetail | undefined): string[] | undefined {
  const groups = detail?.previousGroups;
  return Array.isArray(groups) ? groups : undefined;
}
