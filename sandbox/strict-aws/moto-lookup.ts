import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  ListTagsForResourceCommand,
  RDSClient,
  type DBCluster,
  type DBInstance,
  type GlobalCluster,
} from '@aws-sdk/client-rds';
import {
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { MOTO_CREDENTIALS } from '../aws-clients';

/** `arn:aws:rds:us-west-2:123456789012:cluster:ehr-aurora-west` → region and id; undefined for a plain id. */
export function parseRdsArn(arnOrId: string): { region: string; kind: string; id: string } | undefined {
  const match = /^arn:aws[\w-]*:rds:([a-z0-9-]+):\d+:(db|cluster|global-cluster):(.+)$/.exec(arnOrId);
  return match ? { region: match[1]!, kind: match[2]!, id: match[3]! } : undefined;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  return /NotFound/.test(name);
}

/**
 * Reads moto's RDS state directly (behind the layer, so these reads are neither counted nor faulted), with the
 * real SDK: the layer decides AWS's refusals from the same describe answers a client would get.
 */
export class MotoLookup {
  private readonly clients = new Map<string, RDSClient>();
  private route53Client: Route53Client | undefined;
  private readonly kmsClients = new Map<string, KMSClient>();

  constructor(private readonly endpoint: string) {}

  rds(region: string): RDSClient {
    let client = this.clients.get(region);
    if (client === undefined) {
      client = new RDSClient({
        region,
        endpoint: this.endpoint,
        credentials: MOTO_CREDENTIALS,
        maxAttempts: 1,
      });
      this.clients.set(region, client);
    }
    return client;
  }

  async instance(region: string, instanceId: string): Promise<DBInstance | undefined> {
    try {
      const out = await this.rds(region).send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }),
      );
      return out.DBInstances?.[0];
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async cluster(region: string, clusterId: string): Promise<DBCluster | undefined> {
    try {
      const out = await this.rds(region).send(
        new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }),
      );
      return out.DBClusters?.[0];
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The cluster an ARN names, or, for a plain id, the cluster of that id in `defaultRegion`. */
  async clusterByArnOrId(arnOrId: string, defaultRegion: string): Promise<DBCluster | undefined> {
    const arn = parseRdsArn(arnOrId);
    return arn ? this.cluster(arn.region, arn.id) : this.cluster(defaultRegion, arnOrId);
  }

  /** Every global cluster moto knows (moto answers them from any region, as AWS does). */
  async globalClusters(region: string): Promise<GlobalCluster[]> {
    const out = await this.rds(region).send(new DescribeGlobalClustersCommand({}));
    return out.GlobalClusters ?? [];
  }

  /** Whether KMS in `region` knows the key (id, alias or ARN, as DescribeKey takes it). */
  async kmsKeyExists(region: string, keyId: string): Promise<boolean> {
    let client = this.kmsClients.get(region);
    if (client === undefined) {
      client = new KMSClient({
        region,
        endpoint: this.endpoint,
        credentials: MOTO_CREDENTIALS,
        maxAttempts: 1,
      });
      this.kmsClients.set(region, client);
    }
    try {
      await client.send(new DescribeKeyCommand({ KeyId: keyId }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** The keys of the tags an RDS resource carries; undefined when moto knows no such resource. */
  async tagKeys(arn: string): Promise<string[] | undefined> {
    const region = parseRdsArn(arn)?.region;
    if (region === undefined) return undefined;
    try {
      const out = await this.rds(region).send(new ListTagsForResourceCommand({ ResourceName: arn }));
      return (out.TagList ?? []).map((tag) => tag.Key ?? '');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Every record set of a hosted zone, read page by page. */
  async recordSets(zoneId: string): Promise<ResourceRecordSet[]> {
    this.route53Client ??= new Route53Client({
      region: 'us-east-1',
      endpoint: this.endpoint,
      credentials: MOTO_CREDENTIALS,
      maxAttempts: 1,
    });
    const sets: ResourceRecordSet[] = [];
    let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type'] } = {};
    for (;;) {
      const page = await this.route53Client.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: 300, ...start }),
      );
      sets.push(...(page.ResourceRecordSets ?? []));
      if (page.IsTruncated !== true || page.NextRecordName === undefined) return sets;
      start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType };
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    this.route53Client?.destroy();
    for (const client of this.kmsClients.values()) client.destroy();
    this.kmsClients.clear();
  }
}
