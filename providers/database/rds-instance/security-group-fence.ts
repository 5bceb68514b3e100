import { PermanentFailure, permanentFailure } from '../../../activities/failures';
import { resumeFrom } from '../../../activities/heartbeat-details';
import { heartbeat, pollUntil } from '../../../activities/poll-until';
import { FENCE_TAG, type RdsInstance, type RdsPort } from '../../../activities/database/rds-port';
import type { PollPacing } from '../strategy';

/**
 * Fencing an RDS primary that still has a read replica, in a way AWS accepts and that does not undo itself.
 *
 * - Not StopDBInstance: "You can't stop a DB instance that has a read replica, or that is a read replica", and a
 *   stopped instance "is automatically started" after seven days (Stopping an Amazon RDS DB instance temporarily,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html; StopDBInstance API reference:
 *   "The instance restarts automatically after 7 days").
 * - Instead the instance's VPC security groups are replaced (ModifyDBInstance VpcSecurityGroupIds, ApplyImmediately;
 *   "This change is asynchronously applied as soon as possible", ModifyDBInstance API reference) by one group with
 *   no inbound rules: a VPC security group "controls access to a DB instance", and inbound traffic is denied unless
 *   a rule allows it (Controlling access with security groups,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.RDSSecurityGroups.html). It stays until changed.
 * - Then RebootDBInstance: changing security group rules does not interrupt connections already tracked ("When you
 *   change a security group rule, its tracked connections are not immediately interrupted", Amazon EC2 security
 *   group connection tracking, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html),
 *   so the sessions open before the swap are ended by the reboot.
 * - Assumption, not stated in the AWS documentation read: RDS replicates to its read replicas over its own
 *   channel, not through the instance's client security groups, so the replica still receives the fenced primary's
 *   last WAL (the promotion's lag gate waits for it). A drill in your account shows it: ReplicaLag goes to 0
 *   after the fence.
 *
 * A tag (`drctl:fence`) written BEFORE the swap records the fence and the groups it replaces, so a retry after a
 * crash finishes the same fence and the undo puts back exactly those groups. That the reboot was sent is kept in
 * the activity's heartbeat details, not in a second tag: a retry reboots unless the attempt before it said so
 * (a second reboot of a fenced instance is harmless; a second tag would cost every fence one more call of the
 * account's RDS budget).
 */

export interface SecurityGroupFenceMarker {
  fenceId: string;
  previousGroups: string[];
  /** Only in tags written before the reboot moved to the heartbeat details (`rebooted=yes`). */
  rebooted: boolean;
}

/** Heartbeat details of a fence: a retry of the same step on the same instance skips a reboot already sent. */
interface FenceProgress {
  resume: 'rds.fence';
  fenceId: string;
  instanceId: string;
  rebooted: boolean;
}

/** RDS tag values allow letters, digits, spaces and `_ . : / = + - @` only. */
function tagSafe(text: string): string {
  return text.replace(/[^\p{L}\p{N}_.:/=+\-@]/gu, '_');
}

export function encodeFenceTag(marker: Omit<SecurityGroupFenceMarker, 'rebooted'>): string {
  return `fence=${tagSafe(marker.fenceId)} sg=${marker.previousGroups.join('+')}`;
}

export function decodeFenceTag(value: string | undefined): SecurityGroupFenceMarker | null {
  if (value === undefined) return null;
  const fields = Object.fromEntries(
    value.split(' ').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at), part.slice(at + 1)];
    }),
  );
  if (fields.fence === undefined) return null;
  return {
    fenceId: fields.fence,
    previousGroups: (fields.sg ?? '').split('+').filter(Boolean),
    rebooted: fields.rebooted === 'yes',
  };
}

export function sameFence(marker: SecurityGroupFenceMarker, fenceId: string): boolean {
  return marker.fenceId === tagSafe(fenceId);
}

/** The deny-all group by id or by name, in the VPC of the instance's current groups; refuses one with inbound rules. */
export async function resolveFenceGroup(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  nameOrId: string,
): Promise<string> {
  const current = instance.securityGroups.map((g) => g.id);
  let vpcId: string | undefined;
  if (current.length > 0) {
    vpcId = (await rds.findSecurityGroups(region, { ids: current })).find((g) => g.vpcId)?.vpcId ?? undefined;
  }
  const found = nameOrId.startsWith('sg-')
    ? await rds.findSecurityGroups(region, { ids: [nameOrId] })
    : await rds.findSecurityGroups(region, { name: nameOrId, ...(vpcId ? { vpcId } : {}) });
  const group = found[0];
  if (group === undefined) {
    throw permanentFailure(
      PermanentFailure.ConfigurationMissing,
      `fence security group "${nameOrId}" not found in ${region}${vpcId ? ` (VPC ${vpcId})` : ''}; create a security group with no inbound rules in the primary's VPC and name it in fenceSecurityGroup`,
    );
  }
  if (group.inboundRules > 0) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `fence security group ${group.id} (${group.name}) has ${group.inboundRules} inbound rule(s): it would let clients in; use a group with no inbound rules`,
    );
  }
  return group.id;
}

export interface FenceOutcome {
  changed: boolean;
  summary: string;
  fencedBy: string;
  previousGroups: string[];
  fenceGroup: string;
}

/** Swaps the groups and reboots, resumable from the tag; see the module comment. */
export async function fenceWithSecurityGroup(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  fenceGroup: string,
  fenceId: string,
  poll: PollPacing,
): Promise<FenceOutcome> {
  const { instanceId } = instance;
  const arn = requireArn(instance);
  const current = instance.securityGroups.map((g) => g.id);
  let marker = decodeFenceTag(instance.tags[FENCE_TAG]);
  if (marker !== null && !sameFence(marker, fenceId)) {
    return {
      changed: false,
      summary: `${instanceId} is already fenced (by ${marker.fenceId}): security group ${current.join(', ')}`,
      fencedBy: marker.fenceId,
      previousGroups: marker.previousGroups,
      fenceGroup,
    };
  }
  if (marker === null && current.length === 1 && current[0] === fenceGroup) {
    return {
      changed: false,
      summary: `${instanceId} already has only the fence security group ${fenceGroup}`,
      fencedBy: 'unknown (no drctl:fence tag)',
      previousGroups: [],
      fenceGroup,
    };
  }
  if (marker === null) {
    marker = { fenceId, previousGroups: current, rebooted: false };
    await rds.tagResource(region, arn, FENCE_TAG, encodeFenceTag(marker));
  }
  const resumed = resumeFrom<FenceProgress>('rds.fence');
  const progress: FenceProgress = {
    resume: 'rds.fence',
    fenceId,
    instanceId,
    rebooted:
      marker.rebooted ||
      (resumed?.fenceId === fenceId && resumed.instanceId === instanceId && resumed.rebooted),
  };
  const read = () => rds.describeInstance(region, instanceId);
  if (!(current.length === 1 && current[0] === fenceGroup)) {
    await rds.setInstanceSecurityGroups(region, instanceId, [fenceGroup]);
  }
  await pollUntil(read, (i) => i === null || (onlyGroup(i, fenceGroup) && i.status === 'available'), {
    ...poll,
    describe: (i) => ({
      ...progress,
      waitingFor: `${instanceId} to carry only ${fenceGroup}`,
      status: i?.status ?? 'gone',
    }),
  });
  if (!progress.rebooted) {
    await rds.rebootInstance(region, instanceId);
    progress.rebooted = true;
    heartbeat(progress);
    await pollUntil(read, (i) => i === null || i.status === 'available', {
      ...poll,
      describe: (i) => ({
        ...progress,
        waitingFor: `${instanceId} to come back from its reboot`,
        status: i?.status ?? 'gone',
      }),
    });
  }
  return {
    changed: true,
    summary: `fenced ${instanceId}: security groups ${marker.previousGroups.join(', ') || 'none'} replaced by ${fenceGroup} (no inbound rules), rebooted to end open sessions`,
    fencedBy: fenceId,
    previousGroups: marker.previousGroups,
    fenceGroup,
  };
}

/** Puts back the groups the fence replaced and removes its tag; only this fence's (or any, without an id). */
export async function unfenceSecurityGroup(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  fenceId: string | undefined,
  poll: PollPacing,
): Promise<{ changed: boolean; summary: string; restored: string[] }> {
  const marker = decodeFenceTag(instance.tags[FENCE_TAG]);
  if (marker === null) {
    return {
      changed: false,
      summary: `${instance.instanceId} carries no drctl:fence tag: nothing to undo`,
      restored: [],
    };
  }
  if (fenceId !== undefined && !sameFence(marker, fenceId)) {
    return {
      changed: false,
      summary: `${instance.instanceId} was fenced by ${marker.fenceId}, not by this run: left fenced`,
      restored: [],
    };
  }
  const arn = requireArn(instance);
  await rds.setInstanceSecurityGroups(region, instance.instanceId, marker.previousGroups);
  await pollUntil(
    () => rds.describeInstance(region, instance.instanceId),
    (i) =>
      i === null ||
      (i.status === 'available' &&
        sameSet(
          i.securityGroups.filter((g) => g.status === 'active').map((g) => g.id),
          marker.previousGroups,
        )),
    {
      ...poll,
      describe: (i) => ({
        waitingFor: `${instance.instanceId} to carry its groups again`,
        status: i?.status,
      }),
    },
  );
  await rds.untagResource(region, arn, FENCE_TAG);
  return {
    changed: true,
    summary: `unfenced ${instance.instanceId}: security groups ${marker.previousGroups.join(', ')} back in place`,
    restored: marker.previousGroups,
  };
}

function onlyGroup(instance: RdsInstance, group: string): boolean {
  return (
    instance.securityGroups.length === 1 &&
    instance.securityGroups[0]?.id === group &&
    instance.securityGroups[0].status === 'active'
  );
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function requireArn(instance: RdsInstance): string {
  if (instance.arn === null) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${instance.instanceId} reports no DBInstanceArn; check it in the RDS console`,
    );
  }
  return instance.arn;
}
