/**
 * One permission a step needs: AWS actions on resources, with an optional IAM condition. `label` names the
 * statement inside its step (the Sid is the step id and the label, PascalCased); `why` says which call needs it.
 */
export interface IamGrant {
  label: string;
  actions: string[];
  resources: string[];
  condition?: IamCondition;
  why: string;
}

/** An IAM condition block: operator → condition key → values. */
export type IamCondition = Record<string, Record<string, string[]>>;

/** What ARNs are built from. `account` and `region` may be `*` when the policy is not for one account. */
export interface ArnContext {
  partition: string;
  account: string;
}

/** ARNs of the resources drctl's activities touch, in the formats of the AWS Service Authorization Reference. */
export const arn = {
  rdsInstance: (c: ArnContext, region: string, instanceId: string) =>
    `arn:${c.partition}:rds:${region}:${c.account}:db:${instanceId}`,
  rdsCluster: (c: ArnContext, region: string, clusterId: string) =>
    `arn:${c.partition}:rds:${region}:${c.account}:cluster:${clusterId}`,
  /** Global clusters have no Region in their ARN. */
  rdsGlobalCluster: (c: ArnContext, globalClusterId: string) =>
    `arn:${c.partition}:rds::${c.account}:global-cluster:${globalClusterId}`,
  /** Route 53 is global: no Region, no account. */
  hostedZone: (c: ArnContext, zoneId: string) => `arn:${c.partition}:route53:::hostedzone/${zoneId}`,
  route53Change: (c: ArnContext) => `arn:${c.partition}:route53:::change/*`,
  /** S3 bucket ARNs carry neither Region nor account. */
  s3Bucket: (c: ArnContext, bucket: string) => `arn:${c.partition}:s3:::${bucket}`,
  s3Objects: (c: ArnContext, bucket: string, prefix: string) =>
    `arn:${c.partition}:s3:::${bucket}/${prefix}*`,
  /** Secrets Manager appends six random characters to a secret's name in its ARN. */
  secret: (c: ArnContext, region: string, name: string) =>
    `arn:${c.partition}:secretsmanager:${region}:${c.account}:secret:${name}-??????`,
  kmsKey: (c: ArnContext, region: string, keyId: string) =>
    keyId.startsWith('arn:') ? keyId : `arn:${c.partition}:kms:${region}:${c.account}:key/${keyId}`,
};

/** Describe and metric reads that AWS does not scope to a resource: IAM only accepts `*` for them. */
export const ANY_RESOURCE = '*';
