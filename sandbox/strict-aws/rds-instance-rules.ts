import type { DBInstance } from '@aws-sdk/client-rds';
import type { BusyStatus, EstateModel } from './estate-model';
import { parseRdsArn, type MotoLookup } from './moto-lookup';
import { refuse, type StrictCall, type StrictOutcome, type StrictRule } from './strict-call';
import type { StrictAwsSettings } from './strict-settings';
import {
  buildXml,
  child,
  childText,
  findAll,
  parseXml,
  removeChildren,
  setChildText,
  textOf,
} from './xml-tree';

/** `region/instanceId` of a replica named by id (same region as its source) or by ARN (cross-region). */
function replicaKey(replica: string, sourceRegion: string): { region: string; id: string } {
  const arn = parseRdsArn(replica);
  return arn ? { region: arn.region, id: arn.id } : { region: sourceRegion, id: replica };
}

/**
 * RDS instance refusals moto lacks, and the topology after a promotion as AWS shows it.
 *
 * - StopDBInstance of a read replica, or (rule `rdsStopWithReadReplicas`) of an instance that has read replicas →
 *   HTTP 400 InvalidDBInstanceState. "You can't stop a DB instance that has a read replica, or that is a read
 *   replica." (Stopping an Amazon RDS DB instance temporarily, Limitations:
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html; the error code from the
 *   StopDBInstance API reference: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StopDBInstance.html).
 *   moto refuses the first with the wrong code and accepts the second.
 * - PromoteReadReplica of an instance that is not a read replica (never was, or already promoted) → HTTP 400
 *   InvalidDBInstanceState: DBInstanceIdentifier "Must match the identifier of an existing read replica DB
 *   instance" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html). moto
 *   accepts it.
 * - After a promotion AWS drops `ReadReplicaSourceDBInstanceIdentifier` from the promoted instance and the
 *   replica from its source's `ReadReplicaDBInstanceIdentifiers`; moto keeps both, so DescribeDBInstances is
 *   rewritten from what the layer saw promoted.
 * - A reboot takes time: after RebootDBInstance the instance reports `rebooting` for `rdsRebootMs` ("The DB
 *   instance status is set to rebooting", Rebooting a DB instance,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RebootInstance.html), and a RebootDBInstance or
 *   ModifyDBInstance of it meanwhile gets HTTP 400 InvalidDBInstanceState ("The DB instance isn't in a valid
 *   state", API_RebootDBInstance and API_ModifyDBInstance errors). moto reboots at once and accepts both.
 * - So does a modification: a ModifyDBInstance applied immediately "is asynchronously applied as soon as
 *   possible" (API_ModifyDBInstance, ApplyImmediately), the instance reporting `modifying` ("The DB instance is
 *   being modified because of a customer request to modify the DB instance", Viewing Amazon RDS DB instance status,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html) for `rdsModifyMs`, RDS's
 *   answer included, and a reboot or another modification meanwhile gets InvalidDBInstanceState ("The specified DB
 *   instance is not in the available state", the RebootDBInstance API reference this API shares with Amazon
 *   DocumentDB and Neptune). moto applies it at once and stays `available`.
 */
export function createRdsInstanceRules(
  settings: () => StrictAwsSettings,
  model: EstateModel,
  lookup: MotoLookup,
): Record<string, StrictRule> {
  const isReplica = (instance: DBInstance, region: string): boolean =>
    Boolean(instance.ReadReplicaSourceDBInstanceIdentifier) &&
    !model.isPromoted(region, instance.DBInstanceIdentifier ?? '');

  const liveReplicas = (instance: DBInstance, region: string): string[] =>
    (instance.ReadReplicaDBInstanceIdentifiers ?? []).filter((replica) => {
      const key = replicaKey(replica, region);
      return !model.isPromoted(key.region, key.id);
    });

  async function stopDbInstance(call: StrictCall): Promise<StrictOutcome | undefined> {
    const instanceId = call.params.get('DBInstanceIdentifier') ?? '';
    const instance = await lookup.instance(call.region, instanceId);
    if (instance === undefined) return undefined;
    if (isReplica(instance, call.region)) {
      return refuse(400, 'InvalidDBInstanceState', 'Cannot stop or start a Read-Replica instance');
    }
    const replicas = liveReplicas(instance, call.region);
    if (settings().rules.rdsStopWithReadReplicas && replicas.length > 0) {
      return refuse(
        400,
        'InvalidDBInstanceState',
        `Cannot stop DB instance ${instanceId} because it has read replicas: ${replicas.join(', ')}. You can't stop a DB instance that has a read replica; promote or delete the read replicas first.`,
      );
    }
    return undefined;
  }

  async function promoteReadReplica(call: StrictCall): Promise<StrictOutcome | undefined> {
    const instanceId = call.params.get('DBInstanceIdentifier') ?? '';
    const instance = await lookup.instance(call.region, instanceId);
    if (instance === undefined) return undefined;
    const replica = isReplica(instance, call.region);
    if (!replica && settings().rules.rdsPromoteNonReplica) {
      return refuse(400, 'InvalidDBInstanceState', 'DB Instance is not a read replica.');
    }
    return {
      kind: 'forward',
      after: (status) => {
        if (replica && status >= 200 && status < 300) model.markPromoted(call.region, instanceId);
      },
    };
  }

  /** Refuses a call on an instance still rebooting or modifying, as RDS does; undefined when it may go ahead. */
  function refusedWhileBusy(call: StrictCall, what: string): StrictOutcome | undefined {
    const instanceId = call.params.get('DBInstanceIdentifier') ?? '';
    const busy = model.busyAs(call.region, instanceId, call.now);
    if (busy === undefined) return undefined;
    return refuse(
      400,
      'InvalidDBInstanceState',
      `Cannot ${what} DB instance ${instanceId}: the DB instance isn't in a valid state (it is ${busy}); wait until its status is available.`,
    );
  }

  /** Forwards a call that leaves the instance `status` for `ms`: RDS's answer shows it, and so do describes. */
  function busyFor(call: StrictCall, status: BusyStatus, ms: number): StrictOutcome {
    const instanceId = call.params.get('DBInstanceIdentifier') ?? '';
    return {
      kind: 'forward',
      rewrite: (body) => {
        const tree = parseXml(body);
        for (const instance of findAll(tree, 'DBInstance'))
          setChildText(instance, 'DBInstanceStatus', status);
        return buildXml(tree);
      },
      after: (code) => {
        if (code >= 200 && code < 300) model.markBusy(call.region, instanceId, status, Date.now() + ms);
      },
    };
  }

  async function rebootDbInstance(call: StrictCall): Promise<StrictOutcome | undefined> {
    const refused = refusedWhileBusy(call, 'reboot');
    if (refused !== undefined) return refused;
    const { rdsRebootMs } = settings();
    return rdsRebootMs <= 0 ? undefined : busyFor(call, 'rebooting', rdsRebootMs);
  }

  async function modifyDbInstance(call: StrictCall): Promise<StrictOutcome | undefined> {
    const refused = refusedWhileBusy(call, 'modify');
    if (refused !== undefined) return refused;
    const { rdsModifyMs } = settings();
    // Only a change applied now makes the instance busy; a deferred one waits for the maintenance window.
    const now = call.params.get('ApplyImmediately') === 'true';
    return rdsModifyMs <= 0 || !now ? undefined : busyFor(call, 'modifying', rdsModifyMs);
  }

  async function describeDbInstances(call: StrictCall): Promise<StrictOutcome | undefined> {
    if (model.promoted.size === 0 && !model.hasBusy()) return undefined;
    return {
      kind: 'forward',
      rewrite: (body) => {
        const tree = parseXml(body);
        for (const instance of findAll(tree, 'DBInstance')) {
          const instanceId = childText(instance, 'DBInstanceIdentifier') ?? '';
          if (model.isPromoted(call.region, instanceId)) {
            removeChildren(instance, 'ReadReplicaSourceDBInstanceIdentifier');
          }
          const busy = model.busyAs(call.region, instanceId, Date.now());
          if (busy !== undefined) setChildText(instance, 'DBInstanceStatus', busy);
          const replicas = child(instance, 'ReadReplicaDBInstanceIdentifiers');
          if (replicas !== undefined) {
            removeChildren(replicas, 'ReadReplicaDBInstanceIdentifier', (element) => {
              const key = replicaKey(textOf(element), call.region);
              return !model.isPromoted(key.region, key.id);
            });
          }
        }
        return buildXml(tree);
      },
    };
  }

  return {
    StopDBInstance: stopDbInstance,
    PromoteReadReplica: promoteReadReplica,
    DescribeDBInstances: describeDbInstances,
    RebootDBInstance: rebootDbInstance,
    ModifyDBInstance: modifyDbInstance,
  };
}
