import { PermanentFailure, permanentFailure } from '../../../activities/failures';
import { failureTypeOf } from '../../../common/failure-type-of';
import { resumeFrom } from '../../../activities/heartbeat-details';
import { currentAttempt, currentRunId, heartbeat, pollUntil } from '../../../activities/poll-until';
import {
  FENCE_TAG,
  type RdsInstance,
  type RdsPort,
  type SecurityGroup,
} from '../../../activities/database/rds-port';
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
 * What the swap replaces must survive a crash, so that a retry finishes the same fence and the undo puts back
 * exactly those groups. A failover's fence step has it in the run's history: its plan reads the groups and the
 * step records them with its undo before the fence is called (`recordedGroups`), and nothing is written on the
 * instance (unless it carries the tag of another fence that never swapped: then the step writes its own). That
 * saves a call of the region's RDS budget per database (200 of the ~600 writes of a 200-database evacuation, in
 * the region that is failing) and a write that a degraded control plane could refuse before the fence even starts. Callers without such a record (a drill's injected outage, the fence follow-up) write a tag
 * (`drctl:fence`) BEFORE the swap instead; fences marked so by earlier versions are still recognised and undone
 * from their tag. That the reboot was sent is kept in the activity's heartbeat details. A worker that dies after
 * sending it may not have sent that heartbeat yet (the SDK throttles them, up to `maxHeartbeatThrottleInterval`):
 * a retry that finds the instance rebooting with only the fence group sends no other: that reboot ends every
 * session open now, and what connects after it comes through the fence group alone ("Rebooting a DB instance
 * results in a momentary outage, during which the DB instance status is set to rebooting", Rebooting a DB
 * instance, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RebootInstance.html). A retry that finds
 * it back from that reboot reboots again: RDS shows no trace of a reboot that has ended on the instance, and a
 * second reboot of a fenced instance is harmless, where a missing one would leave sessions open.
 */

export interface SecurityGroupFenceMarker {
  fenceId: string;
  previousGroups: string[];
  /**
   * The workflow run whose fence wrote the tag (in tags since it was added). Fence ids name the workflow, and a
   * runbook's failovers all run under one workflow id (its lock): only the run tells this run's fence from an
   * earlier failover's.
   */
  run?: string;
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
  const run = marker.run === undefined ? '' : ` run=${tagSafe(marker.run)}`;
  return `fence=${tagSafe(marker.fenceId)} sg=${marker.previousGroups.join('+')}${run}`;
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
    ...(fields.run === undefined ? {} : { run: fields.run }),
  };
}

export function sameFence(marker: SecurityGroupFenceMarker, fenceId: string): boolean {
  return marker.fenceId === tagSafe(fenceId);
}

/** The run a tag written now names (none outside an activity: a direct call in a test or a tool). */
function runField(): { run?: string } {
  const run = currentRunId();
  return run === undefined ? {} : { run };
}

/**
 * Whether the tag is an earlier execution's of this fence: the same workflow run, another activity. Fence ids are
 * `<workflow id>/<activity id>`, and an operator's retry of the step, or a fence follow-up's next round, is a new
 * activity of the same run: its tag is this fence's, unfinished (its reboot may never have been sent). The tag
 * must name this run: a runbook's failovers share one workflow id.
 */
function earlierExecutionOf(marker: SecurityGroupFenceMarker, fenceId: string): boolean {
  const workflow = (id: string) => id.slice(0, Math.max(id.lastIndexOf('/'), 0));
  const thisWorkflow = workflow(tagSafe(fenceId));
  const thisRun = currentRunId();
  return (
    thisWorkflow !== '' &&
    workflow(marker.fenceId) === thisWorkflow &&
    thisRun !== undefined &&
    marker.run === tagSafe(thisRun)
  );
}

/** The deny-all group by id or by name, in the VPC of the instance's current groups; refuses one with inbound rules. */
export async function resolveFenceGroup(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  nameOrId: string,
): Promise<string> {
  const { group, vpcId } = await lookUpFenceGroup(rds, region, instance, nameOrId);
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

/**
 * The fence group's id for an undo, which only takes it off: no check of its rules (someone may have added one
 * since; the undo removes the group all the same). Undefined when it no longer exists: AWS refuses to delete a
 * group an instance still carries, so the instance does not carry it.
 */
export async function fenceGroupIdForUndo(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  nameOrId: string,
): Promise<string | undefined> {
  return (await lookUpFenceGroup(rds, region, instance, nameOrId)).group?.id;
}

/**
 * The group named in `fenceSecurityGroup` (an id, or a name in the primary's VPC), if it exists. The primary's
 * groups (for its VPC) and the named group are read at once: a group's name is unique within its VPC, so the
 * groups of that name in every VPC, narrowed to the primary's, are the group a read filtered by VPC would find.
 * Both reads answer before it does, failed or not (no read outlives its activity); the primary's failure first.
 */
async function lookUpFenceGroup(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  nameOrId: string,
): Promise<{ group: SecurityGroup | undefined; vpcId: string | undefined }> {
  const current = instance.securityGroups.map((g) => g.id);
  const byId = nameOrId.startsWith('sg-');
  const [ownRead, namedRead] = await Promise.allSettled([
    current.length > 0 ? rds.findSecurityGroups(region, { ids: current }) : Promise.resolve([]),
    rds.findSecurityGroups(region, byId ? { ids: [nameOrId] } : { name: nameOrId }),
  ]);
  if (ownRead.status === 'rejected') throw ownRead.reason;
  if (namedRead.status === 'rejected') throw namedRead.reason;
  const [own, named] = [ownRead.value, namedRead.value];
  const vpcId = own.find((g) => g.vpcId)?.vpcId ?? undefined;
  const group = byId ? named[0] : named.find((g) => vpcId === undefined || g.vpcId === vpcId);
  return { group, vpcId };
}

export interface FenceOutcome {
  changed: boolean;
  summary: string;
  /** The fence in place: this call's id, an earlier execution's of the same fence (which this call finished), or another's. */
  fencedBy: string;
  /** False when the fence in place is another's (its undo too). */
  fencedByThisRun: boolean;
  previousGroups: string[];
  fenceGroup: string;
}

/**
 * Swaps the groups and reboots, resumable after a crash; see the module comment. `recordedGroups`: the groups
 * the run's history recorded before this call (then no tag is written).
 */
export async function fenceWithSecurityGroup(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  fenceGroup: string,
  fenceId: string,
  poll: PollPacing,
  recordedGroups?: string[],
  recordedByEarlierExecution = false,
): Promise<FenceOutcome> {
  const { instanceId } = instance;
  const current = instance.securityGroups.map((g) => g.id);
  let marker = decodeFenceTag(instance.tags[FENCE_TAG]);
  const fencedAlready = current.length === 1 && current[0] === fenceGroup;
  let tookOver: string | undefined;
  // An earlier execution's tag, its swap sent: this call finishes that fence (the reboot it may never have sent),
  // under its id, so the undo the run holds still names the fence in place. One whose swap was never sent is taken
  // over below like any other (a tag of its own records the groups as they are now).
  if (marker !== null && current.includes(fenceGroup) && earlierExecutionOf(marker, fenceId))
    fenceId = marker.fenceId;
  if (marker !== null && !sameFence(marker, fenceId)) {
    if (current.includes(fenceGroup)) {
      // That fence's swap was sent: in place, or being applied (AWS finishes it whatever became of its sender).
      // It is that fence's, and so is its undo.
      return {
        changed: false,
        summary: `${instanceId} is ${fencedAlready ? 'already fenced' : 'being fenced'} (by ${marker.fenceId}): security group${current.length === 1 ? '' : 's'} ${current.join(', ')}`,
        fencedBy: marker.fenceId,
        fencedByThisRun: false,
        previousGroups: marker.previousGroups,
        fenceGroup,
      };
    }
    // Another fence's tag on an instance still reachable through its own groups, never the fence group: that
    // fence failed before its swap, or was lifted by hand and left its tag. A tag is no fence: this run fences
    // the instance, its own tag recording the groups its swap replaces.
    if (current.length === 0) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `${instanceId} carries no security group and the tag of fence ${marker.fenceId}: nothing to record for an undo; check the instance in the RDS console`,
      );
    }
    tookOver = marker.fenceId;
    marker = { fenceId: tagSafe(fenceId), previousGroups: current, rebooted: false, ...runField() };
    await rds.tagResource(region, requireArn(instance), FENCE_TAG, encodeFenceTag(marker));
  }
  // The groups the run recorded, or the fence group beside (some of) them: the swap not sent yet, sent but still
  // being applied, or applied.
  const matchesRecord =
    recordedGroups !== undefined &&
    (sameSet(current, recordedGroups) ||
      (current.includes(fenceGroup) && within(current, recordedGroups, fenceGroup)));
  if (
    marker === null &&
    fencedAlready &&
    !madeByEarlierAttempt(current, recordedGroups, recordedByEarlierExecution)
  ) {
    return {
      changed: false,
      summary: `${instanceId} already has only the fence security group ${fenceGroup}`,
      fencedBy: 'unknown (not fenced by this run)',
      fencedByThisRun: false,
      previousGroups: [],
      fenceGroup,
    };
  }
  if (marker === null && matchesRecord) {
    marker = { fenceId, previousGroups: recordedGroups, rebooted: false };
  } else if (marker === null) {
    // No record, or the groups changed since the plan read them: the tag records what the swap replaces, and
    // the undo prefers a tag to the run's record.
    marker = { fenceId, previousGroups: current, rebooted: false, ...runField() };
    await rds.tagResource(region, requireArn(instance), FENCE_TAG, encodeFenceTag(marker));
  }
  const resumed = resumeFrom<FenceProgress>('rds.fence');
  const progress: FenceProgress = {
    resume: 'rds.fence',
    fenceId,
    instanceId,
    rebooted:
      marker.rebooted ||
      (resumed?.fenceId === fenceId && resumed.instanceId === instanceId && resumed.rebooted) ||
      (fencedAlready && instance.status === 'rebooting'),
  };
  const read = () => rds.describeInstance(region, instanceId);
  const swapped = (i: RdsInstance | null) =>
    i === null || (onlyGroup(i, fenceGroup) && i.status === 'available');
  const untilSwapped = () =>
    pollUntil(read, swapped, {
      ...poll,
      describe: (i) => ({
        ...progress,
        waitingFor: `${instanceId} to carry only ${fenceGroup}`,
        status: i?.status ?? 'gone',
      }),
    });
  if (fencedAlready) await untilSwapped();
  else {
    // RDS's answer to the swap is a read of the instance as of then: where it shows the fence in place, a describe
    // would show no more (and would spend one of the region's RDS calls).
    const answer = await rds.setInstanceSecurityGroups(region, instanceId, [fenceGroup]);
    if (!answerShows(answer, swapped)) await untilSwapped();
  }
  if (!progress.rebooted) {
    try {
      await rds.rebootInstance(region, instanceId);
    } catch (error) {
      // Still busy with the swap (RDS refuses a reboot of an instance that is not available): wait it out once.
      if (failureTypeOf(error) !== PermanentFailure.InvalidState) throw error;
      await untilSwapped();
      await rds.rebootInstance(region, instanceId);
    }
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
    summary:
      `fenced ${instanceId}: security groups ${marker.previousGroups.join(', ') || 'none'} replaced by ${fenceGroup} (no inbound rules), rebooted to end open sessions` +
      (tookOver === undefined
        ? ''
        : ` (it had the tag of fence ${tookOver}, but was still reachable through ${current.join(', ') || 'no group'})`),
    fencedBy: fenceId,
    fencedByThisRun: true,
    previousGroups: marker.previousGroups,
    fenceGroup,
  };
}

/**
 * Whether an instance found carrying only the fence group was fenced by an earlier attempt of this fence: the
 * run recorded other groups before the fence, and this is not the first attempt of the first execution of the
 * step (that one has provably sent nothing; finding the fence group then means someone else fenced it after the
 * plan read it). An operator's retry of the step is a new activity, its attempt 1, so the run says so.
 */
function madeByEarlierAttempt(
  current: string[],
  recordedGroups: string[] | undefined,
  recordedByEarlierExecution: boolean,
): boolean {
  return (
    recordedGroups !== undefined &&
    !sameSet(current, recordedGroups) &&
    (currentAttempt() > 1 || recordedByEarlierExecution)
  );
}

/**
 * The undo of a fence whose replaced groups the run's history recorded: puts them back while the instance carries
 * only them and the fence group (fenced, or the swap still being applied); leaves an instance whose groups someone
 * changed since, and says so.
 */
export async function unfenceRecorded(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  /** Undefined when the fence group no longer exists (then the instance does not carry it). */
  fenceGroup: string | undefined,
  previousGroups: string[],
  poll: PollPacing,
): Promise<{ changed: boolean; summary: string; restored: string[] }> {
  const { instanceId } = instance;
  const current = instance.securityGroups.map((g) => g.id);
  const settled = instance.securityGroups.every((g) => g.status === 'active');
  if (sameSet(current, previousGroups) && settled && instance.status === 'available') {
    return {
      changed: false,
      summary: `${instanceId} carries its groups ${current.join(', ')}: nothing to undo`,
      restored: [],
    };
  }
  // Anything but the recorded groups and the fence group means someone changed the instance since. The fence may
  // also still be on its way (an abort right after the swap was sent): the groups are sent again either way.
  if (!within(current, previousGroups, fenceGroup)) {
    return {
      changed: false,
      summary: `${instanceId} carries ${current.join(', ') || 'no security group'} now, not only ${fenceGroup === undefined ? 'the groups before the fence' : `the fence group ${fenceGroup} and the groups before the fence`} (${previousGroups.join(', ') || 'none'}${fenceGroup === undefined ? '; the fence group no longer exists' : ''}): someone changed it since the fence, left as it is`,
      restored: [],
    };
  }
  await restoreGroups(rds, region, instanceId, previousGroups, poll);
  return {
    changed: true,
    summary: `unfenced ${instanceId}: security groups ${previousGroups.join(', ')} back in place`,
    restored: previousGroups,
  };
}

/** Sets the instance's groups and waits until they are active and the instance available. */
async function restoreGroups(
  rds: RdsPort,
  region: string,
  instanceId: string,
  groups: string[],
  poll: PollPacing,
): Promise<void> {
  const restored = (i: RdsInstance | null) =>
    i === null ||
    (i.status === 'available' &&
      sameSet(
        i.securityGroups.filter((g) => g.status === 'active').map((g) => g.id),
        groups,
      ));
  const answer = await rds.setInstanceSecurityGroups(region, instanceId, groups);
  if (answerShows(answer, restored)) return;
  await pollUntil(() => rds.describeInstance(region, instanceId), restored, {
    ...poll,
    describe: (i) => ({ waitingFor: `${instanceId} to carry its groups again`, status: i?.status }),
  });
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
  await restoreGroups(rds, region, instance.instanceId, marker.previousGroups, poll);
  await rds.untagResource(region, arn, FENCE_TAG);
  return {
    changed: true,
    summary: `unfenced ${instance.instanceId}: security groups ${marker.previousGroups.join(', ')} back in place`,
    restored: marker.previousGroups,
  };
}

/** Whether RDS's answer to a change carries the instance, already as `done` wants it. */
function answerShows(answer: RdsInstance | null, done: (instance: RdsInstance) => boolean): boolean {
  return answer !== null && done(answer);
}

function onlyGroup(instance: RdsInstance, group: string): boolean {
  return (
    instance.securityGroups.length === 1 &&
    instance.securityGroups[0]?.id === group &&
    instance.securityGroups[0].status === 'active'
  );
}

/** Whether every group of `current` is one of `recorded` or the fence group. */
function within(current: string[], recorded: string[], fenceGroup: string | undefined): boolean {
  return current.every((group) => group === fenceGroup || recorded.includes(group));
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
