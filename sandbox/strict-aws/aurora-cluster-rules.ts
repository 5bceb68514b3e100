import type { EstateModel } from './estate-model';
import { globalClusterIdOf, globalClusterViews } from './global-clusters';
import { parseRdsArn, type MotoLookup } from './moto-lookup';
import { refuse, type StrictCall, type StrictOutcome, type StrictRule } from './strict-call';
import type { StrictAwsSettings } from './strict-settings';
import {
  buildXml,
  child,
  childText,
  childrenOf,
  findAll,
  parseXml,
  setChildText,
  type XmlNode,
} from './xml-tree';

function setWriterFlags(cluster: XmlNode, isWriter: (instanceId: string) => boolean): void {
  const members = child(cluster, 'DBClusterMembers');
  if (members === undefined) return;
  for (const member of childrenOf(members)) {
    const instanceId = childText(member, 'DBInstanceIdentifier') ?? '';
    setChildText(member, 'IsClusterWriter', String(isWriter(instanceId)));
  }
}

/**
 * Aurora cluster failover as AWS shows it, where moto switches the writer at once:
 *
 * - After FailoverDBCluster the cluster reports Status `failing-over`, with the old writer still the writer,
 *   for `clusterFailoverMs`; then moto's answer (the target is the writer, `available`).
 * - FailoverDBCluster on a cluster that is failing over (itself, or as a member of a global switchover or
 *   failover in progress) → HTTP 400 InvalidDBClusterStateFault, "The requested operation can't be performed
 *   while the cluster is in this state" (API reference,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverDBCluster.html).
 * - DescribeDBClusters shows a global database's secondary clusters with no writer instance (moto marks their
 *   first instance writer); after a global switchover the roles follow the new primary.
 */
export function createAuroraClusterRules(
  settings: () => StrictAwsSettings,
  model: EstateModel,
  lookup: MotoLookup,
): Record<string, StrictRule> {
  function inGlobalOperation(clusterArn: string | undefined): boolean {
    if (clusterArn === undefined) return false;
    return [...model.globalOperations.values()].some(
      (operation) => operation.fromArn === clusterArn || operation.toArn === clusterArn,
    );
  }

  async function failoverDbCluster(call: StrictCall): Promise<StrictOutcome | undefined> {
    const clusterId = call.params.get('DBClusterIdentifier') ?? '';
    model.settleGlobalOperations(call.now);
    const cluster = await lookup.cluster(call.region, clusterId);
    if (cluster === undefined) return undefined;
    if (
      model.clusterFailoverAt(call.region, clusterId, call.now) !== undefined ||
      inGlobalOperation(cluster.DBClusterArn)
    ) {
      return refuse(
        400,
        'InvalidDBClusterStateFault',
        `DB cluster ${clusterId} is failing over; it can't be failed over again until its status is available.`,
      );
    }
    const oldWriter = cluster.DBClusterMembers?.find(
      (member) => member.IsClusterWriter,
    )?.DBInstanceIdentifier;
    return {
      kind: 'forward',
      after: (status) => {
        const failoverMs = settings().clusterFailoverMs;
        if (status < 200 || status >= 300 || failoverMs <= 0) return;
        model.clusterFailovers.set(`${call.region}/${clusterId}`, {
          oldWriter,
          until: Date.now() + failoverMs,
        });
      },
    };
  }

  async function describeDbClusters(call: StrictCall): Promise<StrictOutcome | undefined> {
    return {
      kind: 'forward',
      rewrite: async (body) => {
        const tree = parseXml(body);
        const clusters = findAll(tree, 'DBCluster');
        const inGlobal = clusters.some((cluster) => childText(cluster, 'GlobalClusterIdentifier'));
        const failingOver = clusters.some((cluster) =>
          model.clusterFailoverAt(call.region, childText(cluster, 'DBClusterIdentifier') ?? '', Date.now()),
        );
        if (!inGlobal && !failingOver) return body;
        const views = inGlobal ? await globalClusterViews(lookup, model, call.region, Date.now()) : [];
        for (const cluster of clusters) {
          const clusterId = childText(cluster, 'DBClusterIdentifier') ?? '';
          const arn = childText(cluster, 'DBClusterArn') ?? '';
          const region = parseRdsArn(arn)?.region ?? call.region;
          const failover = model.clusterFailoverAt(region, clusterId, Date.now());
          if (failover !== undefined) {
            setChildText(cluster, 'Status', 'failing-over');
            setWriterFlags(cluster, (instanceId) => instanceId === failover.oldWriter);
          }
          const globalId = childText(cluster, 'GlobalClusterIdentifier');
          const view = globalId
            ? views.find((candidate) => candidate.id === globalClusterIdOf(globalId))
            : undefined;
          if (view?.writerArn !== undefined && view.writerArn !== arn) setWriterFlags(cluster, () => false);
        }
        return buildXml(tree);
      },
    };
  }

  return { FailoverDBCluster: failoverDbCluster, DescribeDBClusters: describeDbClusters };
}
