import { createHash } from 'node:crypto';
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
   * The workflow run whose fence wrote the tag (in tags since it was added): the calling run, or the run it goes on
   * with (a fence follow-up's first run). Fence ids name the workflow, and a runbook's failovers all run under one
   * workflow id (its lock): only the run tells this run's fence from an earlier failover's.
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

/**
 * RDS takes a tag value of at most 256 characters, and an instance carries at most 50 tags (Tag data type,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html; "each Amazon RDS resource can have up to
 * 50 tags", Tagging Amazon RDS resources, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html).
 * A fence id names a workflow, whose id Temporal lets be far longer, and an instance's network interface may carry
 * up to 16 security groups of 20 characters each (Amazon VPC quotas, "Security groups per network interface",
 * https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html). So ids are kept short, and the groups
 * that do not fit go on in numbered tags beside the first (`drctl:fence:2`, …), written in the same call.
 */
const TAG_VALUE_MAX = 256;
const TAGS_PER_INSTANCE_MAX = 50;
const FENCE_REF_MAX = 96;
const RUN_REF_MAX = 40;
/** The tag holding the `part`th share of the groups (the first share is in `FENCE_TAG` itself). */
const partTag = (part: number) => `${FENCE_TAG}:${part}`;

/**
 * An id as a tag holds it: tag-safe, and, when longer than `max`, its start and a digest of the whole (unique as
 * the id is). The same id always gives the same reference, and a reference is its own reference.
 */
function tagRef(id: string, max: number): string {
  // Counted and cut by characters (as RDS counts them), not UTF-16 units: a cut through a surrogate pair would
  // leave half a letter, which the next tagSafe turns into another reference.
  const characters = Array.from(tagSafe(id));
  if (characters.length <= max) return characters.join('');
  const digest = createHash('sha256').update(id).digest('base64url').slice(0, 22);
  return `${characters.slice(0, max - digest.length - 2).join('')}..${digest}`;
}

/** The tags that record a fence: `FENCE_TAG`, and numbered tags for the groups that do not fit in it. */
export function encodeFenceTags(marker: Omit<SecurityGroupFenceMarker, 'rebooted'>): Record<string, string> {
  const head = `fence=${tagRef(marker.fenceId, FENCE_REF_MAX)} sg=`;
  const run = marker.run === undefined ? '' : ` run=${tagRef(marker.run, RUN_REF_MAX)}`;
  const whole = head + marker.previousGroups.join('+') + run;
  if (whole.length <= TAG_VALUE_MAX) return { [FENCE_TAG]: whole };
  const shares = [[] as string[]];
  const room = (share: number) =>
    TAG_VALUE_MAX - (share === 0 ? head.length + run.length + ' parts=99'.length : 0);
  for (const group of marker.previousGroups) {
    const share = shares[shares.length - 1] ?? [];
    if ([...share, group].join('+').length <= room(shares.length - 1)) share.push(group);
    else shares.push([group]);
  }
  return Object.fromEntries(
    shares.map((share, index) =>
      index === 0
        ? [FENCE_TAG, `${head}${share.join('+')}${run} parts=${shares.length}`]
        : [partTag(index + 1), share.join('+')],
    ),
  );
}

/** The fence an instance's tags record, or null. `complete` is false when a numbered tag it names is missing. */
export function decodeFenceTags(
  tags: Record<string, string>,
): (SecurityGroupFenceMarker & { complete: boolean }) | null {
  const value = tags[FENCE_TAG];
  if (value === undefined) return null;
  const fields = Object.fromEntries(
    value.split(' ').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at), part.slice(at + 1)];
    }),
  );
  if (fields.fence === undefined) return null;
  const parts = Number(fields.parts ?? 1);
  // An instance carries at most 50 tags: a count beyond (edited by hand) names parts that cannot exist.
  const counted = Number.isInteger(parts) && parts >= 1 && parts <= TAGS_PER_INSTANCE_MAX;
  const continued = Array.from({ length: counted ? parts - 1 : 0 }, (_, i) => tags[partTag(i + 2)]);
  const shares = [fields.sg ?? '', ...continued.map((share) => share ?? '')];
  return {
    fenceId: fields.fence,
    previousGroups: shares.flatMap((share) => share.split('+')).filter(Boolean),
    rebooted: fields.rebooted === 'yes',
    complete: counted && continued.every((share) => share !== undefined),
    ...(fields.run === undefined ? {} : { run: fields.run }),
  };
}

/** Every tag of a fence's on the instance: `FENCE_TAG` and its numbered tags (a longer fence's too). */
function fenceTagKeys(tags: Record<string, string>): string[] {
  return Object.keys(tags).filter((key) => key === FENCE_TAG || /^drctl:fence:\d+$/.test(key));
}

/**
 * Whether the tag names this fence: its id (tags written before ids were shortened hold the whole id) and, where
 * the tag names its run, `run`. Activity ids start at 1 in every run and a runbook's runs share one workflow id,
 * so an earlier failover's fence step has this one's id. Without a run (outside an activity) the id decides.
 */
export function sameFence(marker: SecurityGroupFenceMarker, fenceId: string, run?: string): boolean {
  const named = marker.fenceId === tagRef(fenceId, FENCE_REF_MAX) || marker.fenceId === tagSafe(fenceId);
  return named && (marker.run === undefined || run === undefined || marker.run === tagRef(run, RUN_REF_MAX));
}

/** The run a fence goes on with: the one named (a fence follow-up's first run), or the calling run. */
function fenceRunOf(named: string | undefined): string | undefined {
  return named ?? currentRunId();
}

/**
 * Whether the tag is an earlier execution's of this fence: the same run, another activity. An operator's retry of
 * the step, or a fence follow-up's next round, is a new activity: its tag is this fence's, unfinished (its reboot
 * may never have been sent). The run, not the fence id's workflow, decides: a runbook's failovers share one
 * workflow id, and a run id names one run of one workflow.
 */
function earlierExecutionOf(marker: SecurityGroupFenceMarker, run: string | undefined): boolean {
  return run !== undefined && marker.run === tagRef(run, RUN_REF_MAX);
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

export interface FenceOptions {
  /** The groups the run's history recorded before this call (then no tag is written). */
  recordedGroups?: string[];
  /** The record was made for an earlier execution of the step (an operator's retry is a new activity). */
  recordedByEarlierExecution?: boolean;
  /** The run whose fence this goes on with, when not the calling run (`DatabaseInput.fenceRun`). */
  run?: string;
}

/**
 * Swaps the groups and reboots, resumable after a crash; see the module comment.
 */
export async function fenceWithSecurityGroup(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  fenceGroup: string,
  fenceId: string,
  poll: PollPacing,
  options: FenceOptions = {},
): Promise<FenceOutcome> {
  const { recordedGroups, recordedByEarlierExecution = false } = options;
  const run = fenceRunOf(options.run);
  const runField = run === undefined ? {} : { run };
  const { instanceId } = instance;
  const current = instance.securityGroups.map((g) => g.id);
  let marker = decodeFenceTags(instance.tags);
  const fencedAlready = current.length === 1 && current[0] === fenceGroup;
  let tookOver: string | undefined;
  // An earlier execution's tag, its swap sent: this call finishes that fence (the reboot it may never have sent),
  // under its id, so the undo the run holds still names the fence in place. One whose swap was never sent is taken
  // over below like any other (a tag of its own records the groups as they are now).
  if (marker !== null && current.includes(fenceGroup) && earlierExecutionOf(marker, run))
    fenceId = marker.fenceId;
  if (marker !== null && !sameFence(marker, fenceId, run)) {
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
    marker = { fenceId, previousGroups: current, rebooted: false, complete: true, ...runField };
    await writeFenceTags(rds, region, instance, marker);
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
    marker = { fenceId, previousGroups: recordedGroups, rebooted: false, complete: true };
  } else if (marker === null) {
    // No record, or the groups changed since the plan read them: the tag records what the swap replaces, and
    // the undo prefers a tag to the run's record.
    marker = { fenceId, previousGroups: current, rebooted: false, complete: true, ...runField };
    await writeFenceTags(rds, region, instance, marker);
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
    const answer = await setGroupsOnceAvailable(rds, region, instanceId, [fenceGroup], poll, progress);
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
  const answer = await setGroupsOnceAvailable(rds, region, instanceId, groups, poll, {});
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
  const marker = decodeFenceTags(instance.tags);
  if (marker === null) {
    return {
      changed: false,
      summary: `${instance.instanceId} carries no drctl:fence tag: nothing to undo`,
      restored: [],
    };
  }
  if (fenceId !== undefined && !sameFence(marker, fenceId, currentRunId())) {
    return {
      changed: false,
      summary: `${instance.instanceId} was fenced by ${marker.fenceId}, not by this run: left fenced`,
      restored: [],
    };
  }
  if (!marker.complete) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${instance.instanceId}'s ${FENCE_TAG} tag names groups in numbered tags (${FENCE_TAG}:2, …) that are missing: the groups before the fence are not all known, so none are put back; restore them in the RDS console and remove the ${FENCE_TAG} tags`,
    );
  }
  const arn = requireArn(instance);
  await restoreGroups(rds, region, instance.instanceId, marker.previousGroups, poll);
  await rds.untagResource(region, arn, fenceTagKeys(instance.tags));
  return {
    changed: true,
    summary: `unfenced ${instance.instanceId}: security groups ${marker.previousGroups.join(', ')} back in place`,
    restored: marker.previousGroups,
  };
}

/**
 * Statuses an RDS instance leaves on its own, refusing a modification meanwhile (Viewing instance status,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html). Others (`incompatible-parameters`,
 * `storage-full`, `stopped`, `failed`, …) need a person: waiting for them would only delay the step's failure.
 */
const PASSING_STATUSES = new Set([
  'modifying',
  'rebooting',
  'backing-up',
  'maintenance',
  'upgrading',
  'renaming',
  'resetting-master-credentials',
  'configuring-enhanced-monitoring',
  'configuring-iam-database-auth',
  'configuring-log-exports',
  'starting',
]);

/**
 * ModifyDBInstance of the groups. Refused because the instance is busy with a change that ends on its own (RDS
 * refuses a modification while an earlier one is applied, or while it reboots: InvalidDBInstanceState), it waits
 * until the instance is available and sends it once more: a fence must not fail because someone changed the
 * primary a moment before. Refused in any other state, it fails at once, as before.
 */
async function setGroupsOnceAvailable(
  rds: RdsPort,
  region: string,
  instanceId: string,
  groups: string[],
  poll: PollPacing,
  progress: object,
): Promise<RdsInstance | null> {
  try {
    return await rds.setInstanceSecurityGroups(region, instanceId, groups);
  } catch (error) {
    if (failureTypeOf(error) !== PermanentFailure.InvalidState) throw error;
    const now = await rds.describeInstance(region, instanceId);
    if (now === null || !PASSING_STATUSES.has(now.status)) throw error;
    await pollUntil(
      () => rds.describeInstance(region, instanceId),
      (i) => i === null || !PASSING_STATUSES.has(i.status),
      {
        ...poll,
        describe: (i) => ({
          ...progress,
          waitingFor: `${instanceId} to be available before its security groups change`,
          status: i?.status ?? 'gone',
        }),
      },
    );
    return rds.setInstanceSecurityGroups(region, instanceId, groups);
  }
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

/**
 * Writes the fence's tags in one AddTagsToResource call, after checking that the instance has room for them: RDS
 * refuses a call that would leave more than 50 tags on an instance (keys already there are replaced, not added),
 * and its refusal does not say what to do. The check does, before anything is changed.
 */
async function writeFenceTags(
  rds: RdsPort,
  region: string,
  instance: RdsInstance,
  marker: Omit<SecurityGroupFenceMarker, 'rebooted'>,
): Promise<void> {
  const tags = encodeFenceTags(marker);
  const after = new Set([...Object.keys(instance.tags), ...Object.keys(tags)]);
  if (after.size > TAGS_PER_INSTANCE_MAX) {
    const own = Object.keys(instance.tags).length;
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${instance.instanceId} carries ${own} tag(s) and the fence records the ${marker.previousGroups.length} group(s) its swap replaces in ${Object.keys(tags).length} tag(s) (${FENCE_TAG}…); RDS allows ${TAGS_PER_INSTANCE_MAX} per instance. Nothing was changed: remove ${after.size - TAGS_PER_INSTANCE_MAX} tag(s) from the instance and retry the step`,
    );
  }
  await rds.tagResource(region, requireArn(instance), tags);
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
