import type { IncomingHttpHeaders } from 'node:http';

export type AwsService = 'route53' | 'rds' | 's3' | 'cloudwatch' | 'other';

/** What the proxy knows about one request before deciding to forward or fault it. */
export interface FaultRequest {
  service: AwsService;
  /** The AWS operation name (`ChangeResourceRecordSets`, `PromoteReadReplica`, `HeadObject`, …). */
  operation: string;
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The signing region from the Authorization header's credential scope, when present. */
  region?: string;
}

/** Calls that change state; a successful one is an effect at the server boundary. */
const MUTATING = new Set([
  'ChangeResourceRecordSets',
  'CreateHostedZone',
  'DeleteHostedZone',
  'PromoteReadReplica',
  'StopDBInstance',
  'StartDBInstance',
  'RebootDBInstance',
  'ModifyDBInstance',
  'FailoverDBCluster',
  'FailoverGlobalCluster',
  'CreateDBInstance',
  'AddTagsToResource',
  'RemoveTagsFromResource',
  'DeleteDBInstance',
  'SwitchoverGlobalCluster',
  'CreateGlobalCluster',
  'CreateDBCluster',
  'PutMetricData',
  'PutObject',
  'DeleteObject',
  'CreateBucket',
  'DeleteBucket',
]);

export function isMutating(operation: string): boolean {
  return MUTATING.has(operation);
}

/** The service and region in a SigV4 credential scope: `Credential=AKID/20261127/us-east-1/rds/aws4_request`. */
function signingScope(headers: IncomingHttpHeaders): { service?: string; region?: string } {
  const match = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(headers.authorization ?? '');
  return match ? { region: match[1], service: match[2] } : {};
}

/** Names the Route 53 REST operation from method and path (`/2013-04-01/hostedzone/Z1/rrset`). */
function route53Operation(method: string, path: string): string {
  const parts = path.split('/').filter(Boolean).slice(1); // drop the API version
  const [resource, id, sub] = parts;
  if (resource === 'hostedzone') {
    if (sub === 'rrset') return method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets';
    if (id === undefined) return method === 'POST' ? 'CreateHostedZone' : 'ListHostedZones';
    if (method === 'DELETE') return 'DeleteHostedZone';
    return 'GetHostedZone';
  }
  if (resource === 'hostedzonesbyname') return 'ListHostedZonesByName';
  if (resource === 'change') return 'GetChange';
  if (resource === 'testdnsanswer') return 'TestDNSAnswer';
  return `${method} ${resource ?? '/'}`;
}

const S3_SUBRESOURCES: Array<[string, string, string]> = [
  // [query key, GET/HEAD name, PUT name]
  ['versioning', 'GetBucketVersioning', 'PutBucketVersioning'],
  ['object-lock', 'GetObjectLockConfiguration', 'PutObjectLockConfiguration'],
  ['retention', 'GetObjectRetention', 'PutObjectRetention'],
  ['attributes', 'GetObjectAttributes', 'GetObjectAttributes'],
  ['versions', 'ListObjectVersions', 'ListObjectVersions'],
  ['location', 'GetBucketLocation', 'GetBucketLocation'],
  ['tagging', 'GetObjectTagging', 'PutObjectTagging'],
];

/** Names the S3 operation (path-style: `/bucket/key?sub`). */
function s3Operation(method: string, path: string, query: URLSearchParams): string {
  const [, bucket, ...key] = path.split('/');
  const hasKey = key.join('/') !== '';
  for (const [sub, read, write] of S3_SUBRESOURCES) {
    if (query.has(sub)) return method === 'PUT' ? write : read;
  }
  if (!bucket) return 'ListBuckets';
  if (!hasKey) {
    if (method === 'GET') return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
  }
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT') return query.has('partNumber') ? 'UploadPart' : 'PutObject';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method} object`;
}

/** True when the body is a Query-protocol form (RDS, STS): it is small and names the operation. */
export function isQueryProtocol(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

/** The operation of an AWS JSON-protocol call (CloudWatch): `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`. */
function jsonTargetOperation(headers: IncomingHttpHeaders): string | undefined {
  const target = headers['x-amz-target'];
  if (typeof target !== 'string') return undefined;
  return target.slice(target.lastIndexOf('.') + 1);
}

/** Services named by their SigV4 signing name. */
const SIGNING_NAMES: Record<string, AwsService> = {
  rds: 'rds',
  route53: 'route53',
  s3: 's3',
  monitoring: 'cloudwatch',
};

/**
 * Identifies service and operation: Route 53 by its `/2013-04-01/` path, Query-protocol services (RDS) by the
 * form body's `Action`, JSON-protocol services (CloudWatch) by `X-Amz-Target`, S3 otherwise. The SigV4
 * credential scope names the service when present.
 */
export function classify(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  formBody?: string,
): FaultRequest {
  const parsed = new URL(url, 'http://proxy.invalid');
  const scope = signingScope(headers);
  const base = { method, url, headers, ...(scope.region ? { region: scope.region } : {}) };
  if (parsed.pathname.startsWith('/2013-04-01/')) {
    return { ...base, service: 'route53', operation: route53Operation(method, parsed.pathname) };
  }
  if (formBody !== undefined) {
    const action = new URLSearchParams(formBody).get('Action') ?? parsed.searchParams.get('Action') ?? '?';
    return {
      ...base,
      service: !scope.service ? 'rds' : (SIGNING_NAMES[scope.service] ?? 'other'),
      operation: action,
    };
  }
  const jsonOperation = jsonTargetOperation(headers);
  if (jsonOperation !== undefined) {
    const service = scope.service ? (SIGNING_NAMES[scope.service] ?? 'other') : 'other';
    return { ...base, service, operation: jsonOperation };
  }
  if (scope.service && scope.service !== 's3') {
    return { ...base, service: 'other', operation: `${scope.service} ${method} ${parsed.pathname}` };
  }
  return { ...base, service: 's3', operation: s3Operation(method, parsed.pathname, parsed.searchParams) };
}
