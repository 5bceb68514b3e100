import { randomUUID } from 'node:crypto';
import type { GlobalCluster } from '@aws-sdk/client-rds';
import { EstateModel, type GlobalOperation, type GlobalPhase } from './estate-model';
import { parseRdsArn, type MotoLookup } from './moto-lookup';
import { refuse, type StrictCall, type StrictOutcome, type StrictRule } from './strict-call';
import type { StrictAwsSettings } from './strict-settings';
import { escapeXml } from './xml-tree';

/** A global cluster as AWS would show it now: moto's record plus the writer and operation only the layer knows. */
export interface GlobalClusterView {
  cluster: GlobalCluster;
  id: string;
  writerArn: string | undefined;
  operation: GlobalOperation | undefined;
  phase: GlobalPhase | undefined;
}

/** `arn:aws:rds::123:global-cluster:ehr-global` or `ehr-global` → `ehr-global` (AWS ids are case-insensitive). */
export function globalClusterIdOf(idOrArn: string): string {
  return (parseRdsArn(idOrArn)?.id ?? idOrArn).toLowerCase();
}

/** Every global cluster with the writer the layer knows (after switchovers) and any operation in progress. */
export async function globalClusterViews(
  lookup: MotoLookup,
  model: EstateModel,
  region: string,
  now: number,
): Promise<GlobalClusterView[]> {
  model.settleGlobalOperations(now);
  const clusters = await lookup.globalClusters(region);
  return clusters.map((cluster) => {
    const id = globalClusterIdOf(cluster.GlobalClusterIdentifier ?? '');
    const operation = model.globalOperations.get(id);
    const motoWriter = cluster.GlobalClusterMembers?.find((member) => member.IsWriter)?.DBClusterArn;
    return {
      cluster,
      id,
      writerArn: model.globalWriters.get(id) ?? motoWriter,
      operation,
      phase: operation ? EstateModel.phaseOf(operation, now) : undefined,
    };
  });
}

const element = (name: string, value: string | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;

/** The `FailoverState` status AWS documents for each phase (API reference, FailoverState). */
function failoverStatus(operation: GlobalOperation, phase: GlobalPhase): string {
  if (phase === 'pending') return 'pending';
  return operation.kind === 'switchover' ? 'switching-over' : 'failing-over';
}

/** One `GlobalCluster` in the RDS Query-XML shape, with members, writer and FailoverState from `view`. */
export function globalClusterXml(view: GlobalClusterView, elementName = 'GlobalCluster'): string {
  const { cluster, writerArn, operation, phase } = view;
  const inProgress = operation !== undefined && phase !== undefined && phase !== 'done';
  const memberArns = (cluster.GlobalClusterMembers ?? []).map((member) => member.DBClusterArn ?? '');
  const members = memberArns
    .map((arn) => {
      const isWriter = arn === writerArn;
      const readers = isWriter ? memberArns.filter((other) => other !== arn) : [];
      return `<GlobalClusterMember>${element('DBClusterArn', arn)}<Readers>${readers.map((r) => element('member', r)).join('')}</Readers>${element('IsWriter', isWriter)}${isWriter ? '' : element('GlobalWriteForwardingStatus', 'disabled')}</GlobalClusterMember>`;
    })
    .join('');
  const failoverState = inProgress
    ? `<FailoverState>${element('Status', failoverStatus(operation, phase))}${element('FromDbClusterArn', operation.fromArn)}${element('ToDbClusterArn', operation.toArn)}${element('IsDataLossAllowed', operation.allowDataLoss)}</FailoverState>`
    : '';
  const status = inProgress
    ? operation.kind === 'switchover'
      ? 'switching-over'
      : 'failing-over'
    : (cluster.Status ?? 'available');
  return [
    `<${elementName}>`,
    element('GlobalClusterIdentifier', cluster.GlobalClusterIdentifier),
    element('GlobalClusterResourceId', cluster.GlobalClusterResourceId),
    element('GlobalClusterArn', cluster.GlobalClusterArn),
    element('Status', status),
    element('Engine', cluster.Engine),
    element('EngineVersion', cluster.EngineVersion),
    element('DatabaseName', cluster.DatabaseName),
    element('StorageEncrypted', cluster.StorageEncrypted),
    element('DeletionProtection', cluster.DeletionProtection),
    `<GlobalClusterMembers>${members}</GlobalClusterMembers>`,
    element('Endpoint', cluster.Endpoint),
    failoverState,
    `</${elementName}>`,
  ].join('');
}

function queryResponse(action: string, result: string): string {
  return `<${action}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

/**
 * Aurora Global Database calls moto 5.2.1 lacks, answered by the layer with AWS's documented behaviour:
 *
 * - SwitchoverGlobalCluster (planned, no data loss) and FailoverGlobalCluster (`AllowDataLoss` for an unplanned
 *   failover; `Switchover` or neither for a planned one, both together refused) — API reference
 *   https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_SwitchoverGlobalCluster.html and
 *   .../API_FailoverGlobalCluster.html. Errors: GlobalClusterNotFoundFault (404), DBClusterNotFoundFault (404),
 *   InvalidGlobalClusterStateFault (400), InvalidDBClusterStateFault (400).
 * - The operation shows in DescribeGlobalClusters as `FailoverState` (Status pending → switching-over or
 *   failing-over; FromDbClusterArn, ToDbClusterArn, IsDataLossAllowed), which "is empty unless a switchover or
 *   failover operation is scheduled or is in progress" (API reference, FailoverState); when it ends the target
 *   is the writer (`GlobalClusterMembers[].IsWriter`) and DescribeDBClusters shows the demoted cluster with no
 *   writer instance, as an Aurora secondary has none ("A secondary AWS Region runs a read-only Aurora DB cluster
 *   made up entirely of Aurora Replicas", Aurora User Guide, aurora-global-database-getting-started.html).
 * - Refusals: an operation while one is in progress; a target that is not a secondary of this global cluster,
 *   or is its primary; a headless target (no DB instance to become the writer); a target that is not available;
 *   and, for a switchover, clusters on different engine versions ("The target cluster … must be using the same
 *   engine version as the current primary cluster", https://repost.aws/knowledge-center/aurora-postgresql-global-mismatch;
 *   switchovers need the same major, minor and patch level: aurora-global-database-upgrade.html) or an
 *   unhealthy primary: a switchover is for "a healthy global database cluster" (API reference,
 *   FailoverGlobalCluster), so with the primary's region down only FailoverGlobalCluster with AllowDataLoss works.
 */
export function createGlobalClusterRules(
  settings: () => StrictAwsSettings,
  model: EstateModel,
  lookup: MotoLookup,
): Record<string, StrictRule> {
  async function startOperation(
    call: StrictCall,
    action: 'SwitchoverGlobalCluster' | 'FailoverGlobalCluster',
  ): Promise<StrictOutcome> {
    const globalId = call.params.get('GlobalClusterIdentifier');
    const target = call.params.get('TargetDbClusterIdentifier');
    if (!globalId || !target) {
      return refuse(
        400,
        'MissingParameter',
        `${action} needs GlobalClusterIdentifier and TargetDbClusterIdentifier; got ${globalId ? 'no TargetDbClusterIdentifier' : 'no GlobalClusterIdentifier'}`,
      );
    }
    const allowDataLoss = call.params.get('AllowDataLoss') === 'true';
    if (action === 'FailoverGlobalCluster' && allowDataLoss && call.params.get('Switchover') === 'true') {
      return refuse(
        400,
        'InvalidParameterCombination',
        'Specify either AllowDataLoss (to fail over) or Switchover (to switch over), not both.',
      );
    }
    const kind = allowDataLoss ? 'failover' : 'switchover';
    const views = await globalClusterViews(lookup, model, call.region, call.now);
    const view = views.find((candidate) => candidate.id === globalClusterIdOf(globalId));
    if (view === undefined) {
      return refuse(404, 'GlobalClusterNotFoundFault', `Global cluster ${globalId} not found.`);
    }
    if (view.operation !== undefined) {
      return refuse(
        400,
        'InvalidGlobalClusterStateFault',
        `Global cluster ${globalId} is in the middle of a ${view.operation.kind} to ${view.operation.toArn}; wait until its FailoverState is empty.`,
      );
    }
    const targetCluster = await lookup.clusterByArnOrId(target, call.region);
    if (targetCluster?.DBClusterArn === undefined) {
      return refuse(404, 'DBClusterNotFoundFault', `DBCluster ${target} not found.`);
    }
    const targetArn = targetCluster.DBClusterArn;
    const memberArns = (view.cluster.GlobalClusterMembers ?? []).map((member) => member.DBClusterArn);
    if (!memberArns.includes(targetArn)) {
      return refuse(
        400,
        'InvalidDBClusterStateFault',
        `DB cluster ${targetArn} is not a member of global cluster ${globalId} (members: ${memberArns.join(', ')}).`,
      );
    }
    if (targetArn === view.writerArn) {
      return refuse(
        400,
        'InvalidDBClusterStateFault',
        `DB cluster ${targetArn} is already the primary cluster of global cluster ${globalId}; name a secondary cluster.`,
      );
    }
    if ((targetCluster.DBClusterMembers ?? []).length === 0) {
      return refuse(
        400,
        'InvalidDBClusterStateFault',
        `DB cluster ${targetArn} has no DB instances (a headless secondary cluster); add a DB instance before it can become the primary.`,
      );
    }
    const targetRegion = parseRdsArn(targetArn)?.region ?? call.region;
    const targetId = targetCluster.DBClusterIdentifier ?? '';
    if (
      targetCluster.Status !== 'available' ||
      model.clusterFailoverAt(targetRegion, targetId, call.now) !== undefined
    ) {
      return refuse(
        400,
        'InvalidDBClusterStateFault',
        `DB cluster ${targetArn} is not available (status ${model.clusterFailoverAt(targetRegion, targetId, call.now) ? 'failing-over' : targetCluster.Status}).`,
      );
    }
    const fromArn = view.writerArn ?? '';
    if (kind === 'switchover') {
      const primaryRegion = parseRdsArn(fromArn)?.region;
      if (primaryRegion !== undefined && settings().outage.regionsDown.includes(primaryRegion)) {
        return refuse(
          400,
          'InvalidGlobalClusterStateFault',
          `Global cluster ${globalId} can't be switched over: its primary cluster ${fromArn} in ${primaryRegion} is unavailable. A switchover needs a healthy global database; to recover from an outage of the primary Region use FailoverGlobalCluster with AllowDataLoss.`,
        );
      }
      const primary = await lookup.clusterByArnOrId(fromArn, call.region);
      if (primary !== undefined && primary.EngineVersion !== targetCluster.EngineVersion) {
        return refuse(
          400,
          'InvalidDBClusterStateFault',
          `The target cluster ${targetArn} must be using the same engine version as the current primary cluster (${primary.EngineVersion}; the target runs ${targetCluster.EngineVersion}).`,
        );
      }
    }
    const operation: GlobalOperation = {
      kind,
      fromArn,
      toArn: targetArn,
      allowDataLoss,
      startedAt: call.now,
      phaseMs: settings().globalClusterPhaseMs,
    };
    model.globalOperations.set(view.id, operation);
    const started: GlobalClusterView = {
      ...view,
      operation,
      phase: EstateModel.phaseOf(operation, call.now),
    };
    return {
      kind: 'answer',
      status: 200,
      contentType: 'text/xml',
      body: queryResponse(action, globalClusterXml(started)),
    };
  }

  async function describeGlobalClusters(call: StrictCall): Promise<StrictOutcome> {
    const wanted = call.params.get('GlobalClusterIdentifier');
    const views = (await globalClusterViews(lookup, model, call.region, call.now)).filter(
      (view) => !wanted || view.id === globalClusterIdOf(wanted),
    );
    if (wanted && views.length === 0) {
      return refuse(404, 'GlobalClusterNotFoundFault', `Global cluster ${wanted} not found.`);
    }
    const list = views.map((view) => globalClusterXml(view, 'GlobalClusterMember')).join('');
    return {
      kind: 'answer',
      status: 200,
      contentType: 'text/xml',
      body: queryResponse('DescribeGlobalClusters', `<GlobalClusters>${list}</GlobalClusters>`),
    };
  }

  return {
    SwitchoverGlobalCluster: (call) => startOperation(call, 'SwitchoverGlobalCluster'),
    FailoverGlobalCluster: (call) => startOperation(call, 'FailoverGlobalCluster'),
    DescribeGlobalClusters: describeGlobalClusters,
  };
}
