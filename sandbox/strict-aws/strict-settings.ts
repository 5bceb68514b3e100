import { z } from 'zod';

/** How a region that is down answers: a reset connection, a request that hangs and then resets, or HTTP 503. */
export const OUTAGE_MODES = ['reset', 'hang', '5xx'] as const;
export type OutageMode = (typeof OUTAGE_MODES)[number];

/** A token bucket: `burst` calls at once, refilled at `perSecond`. */
export interface RateLimit {
  burst: number;
  perSecond: number;
}

/** What the strict AWS layer enforces and emulates. `defaultStrictSettings()` gives the defaults. */
export interface StrictAwsSettings {
  /** AWS refusals, each switchable. */
  rules: {
    /**
     * StopDBInstance on an instance that has read replicas → InvalidDBInstanceState. On by default: drctl's RDS
     * fence swaps security groups instead (AWS accepts that with read replicas).
     */
    rdsStopWithReadReplicas: boolean;
    /** PromoteReadReplica of an instance that is not (or no longer) a read replica → InvalidDBInstanceState. */
    rdsPromoteNonReplica: boolean;
    /** ChangeResourceRecordSets while an earlier change to the zone is PENDING → PriorRequestNotComplete. */
    route53PriorRequestNotComplete: boolean;
    /** More than 1,000 ResourceRecord elements or 32,000 value characters (UPSERT counts twice) → InvalidChangeBatch. */
    route53BatchLimits: boolean;
    /**
     * A DELETE of a record set that is not there or holds other values, or a CREATE of one that exists →
     * InvalidChangeBatch, and nothing of the batch changes (moto checks DELETE against its change journal and
     * accepts a CREATE over an existing record).
     */
    route53ChangePreconditions: boolean;
    /** AddTagsToResource with a key over 128 or a value over 256 characters, or characters RDS refuses → InvalidParameterValue. */
    rdsTagConstraints: boolean;
    /** PutObject with SSE-KMS under a key KMS does not know in the bucket's Region → KMS.NotFoundException. */
    s3KmsKeyExists: boolean;
  };
  /** How long a Route 53 change stays PENDING before GetChange answers INSYNC; 0 answers INSYNC at once. */
  route53PropagationMs: number;
  /** How long an Aurora cluster reports `failing-over` (old writer still the writer) after FailoverDBCluster. */
  clusterFailoverMs: number;
  /**
   * How long an RDS instance reports `rebooting` after RebootDBInstance, refusing another reboot or a modification
   * meanwhile (moto reboots at once); 0 reboots at once.
   */
  rdsRebootMs: number;
  /**
   * How long an RDS instance reports `modifying` after a ModifyDBInstance applied immediately, refusing a reboot
   * or another modification meanwhile (moto applies it at once); 0 applies it at once.
   */
  rdsModifyMs: number;
  /** Each phase of a global switchover/failover (pending, then switching-over/failing-over) lasts this long. */
  globalClusterPhaseMs: number;
  throttling: {
    enabled: boolean;
    /** Route 53: one bucket for the account, and one per operation (both must have a token). */
    route53: RateLimit;
    /** Per-operation Route 53 buckets that differ from `route53` (AWS lists some, e.g. CreateHostedZone 40 / 2). */
    route53Operations: Record<string, RateLimit>;
    /** RDS: one bucket per account and region. */
    rds: RateLimit;
    /** CloudWatch GetMetricData: one bucket per account and region (its own quota; other CloudWatch APIs pass). */
    cloudwatchGetMetricData: RateLimit;
  };
  outage: {
    /** Regions whose every call (by SigV4 credential scope) fails: RDS, S3, CloudWatch of that region. */
    regionsDown: string[];
    /** Route 53's control plane (every zone and record API), kept apart from `us-east-1` on purpose. */
    route53ControlPlaneDown: boolean;
    mode: OutageMode;
    /** In `hang` mode, how long a request is held before its connection is reset. */
    hangMs: number;
  };
  /**
   * How often the layer republishes the lag metrics it controls to moto's CloudWatch. RDS sends its metrics to
   * CloudWatch every minute (Monitoring Amazon RDS metrics with Amazon CloudWatch,
   * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/monitoring-cloudwatch.html), the default here. moto keeps
   * every datapoint and its GetMetricData scans, for each query and period, every datapoint of the window: at 5 s
   * the fleet benchmark's 200 replicas put 12,000 datapoints in a 5-minute window and a 200-query read took moto
   * ~0.5 s of its one Python thread.
   */
  lagPublishIntervalMs: number;
}

/**
 * The strict defaults. Rates from the AWS documentation: Route 53 "Throttling for Amazon Route 53 API requests"
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html: account bucket 50,
 * refill 10/s; per-operation buckets, default 50 / 10, CreateHostedZone 40 / 2, DeleteHostedZone 40 / 5,
 * CreateHealthCheck 50 / 0.5, DeleteHealthCheck 15 / 3, GetHealthCheckStatus 4 / 1); RDS "Request throttling for
 * the Amazon RDS API" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html: 300 in a
 * burst, 12 per second sustained, per account and Region); CloudWatch "service quotas"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html: GetMetricData 50
 * transactions per second per Region; no burst is published, so one second's worth). Throttling is off unless a
 * test or benchmark turns it on.
 */
export function defaultStrictSettings(): StrictAwsSettings {
  return {
    rules: {
      rdsStopWithReadReplicas: true,
      rdsPromoteNonReplica: true,
      route53PriorRequestNotComplete: true,
      route53BatchLimits: true,
      route53ChangePreconditions: true,
      rdsTagConstraints: true,
      s3KmsKeyExists: true,
    },
    route53PropagationMs: 300,
    clusterFailoverMs: 300,
    rdsRebootMs: 300,
    rdsModifyMs: 300,
    globalClusterPhaseMs: 300,
    throttling: {
      enabled: false,
      route53: { burst: 50, perSecond: 10 },
      route53Operations: {
        CreateHostedZone: { burst: 40, perSecond: 2 },
        DeleteHostedZone: { burst: 40, perSecond: 5 },
        CreateHealthCheck: { burst: 50, perSecond: 0.5 },
        DeleteHealthCheck: { burst: 15, perSecond: 3 },
        GetHealthCheckStatus: { burst: 4, perSecond: 1 },
      },
      rds: { burst: 300, perSecond: 12 },
      cloudwatchGetMetricData: { burst: 50, perSecond: 50 },
    },
    outage: { regionsDown: [], route53ControlPlaneDown: false, mode: 'reset', hangMs: 5_000 },
    lagPublishIntervalMs: 60_000,
  };
}

const rateLimit = z.strictObject({
  burst: z.number().int().min(1).max(100_000),
  perSecond: z.number().positive().max(100_000),
});
const milliseconds = z.number().int().min(0).max(600_000);
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1');

/** A partial update of the settings; objects merge, lists and maps are replaced. Unknown keys are refused. */
export const settingsPatchSchema = z.strictObject({
  rules: z
    .strictObject({
      rdsStopWithReadReplicas: z.boolean(),
      rdsPromoteNonReplica: z.boolean(),
      route53PriorRequestNotComplete: z.boolean(),
      route53BatchLimits: z.boolean(),
      route53ChangePreconditions: z.boolean(),
      rdsTagConstraints: z.boolean(),
      s3KmsKeyExists: z.boolean(),
    })
    .partial()
    .optional(),
  route53PropagationMs: milliseconds.optional(),
  clusterFailoverMs: milliseconds.optional(),
  rdsRebootMs: milliseconds.optional(),
  rdsModifyMs: milliseconds.optional(),
  globalClusterPhaseMs: milliseconds.optional(),
  throttling: z
    .strictObject({
      enabled: z.boolean(),
      route53: rateLimit,
      route53Operations: z.record(z.string().regex(/^[A-Z][A-Za-z]+$/), rateLimit),
      rds: rateLimit,
      cloudwatchGetMetricData: rateLimit,
    })
    .partial()
    .optional(),
  outage: z
    .strictObject({
      regionsDown: z.array(region),
      route53ControlPlaneDown: z.boolean(),
      mode: z.enum(OUTAGE_MODES),
      hangMs: milliseconds,
    })
    .partial()
    .optional(),
  lagPublishIntervalMs: z.number().int().min(100).max(600_000).optional(),
});

export type StrictSettingsPatch = z.infer<typeof settingsPatchSchema>;

/** Applies a validated patch to a copy of `settings`. */
export function applySettingsPatch(
  settings: StrictAwsSettings,
  patch: StrictSettingsPatch,
): StrictAwsSettings {
  const next = structuredClone(settings);
  if (patch.rules) Object.assign(next.rules, patch.rules);
  if (patch.route53PropagationMs !== undefined) next.route53PropagationMs = patch.route53PropagationMs;
  if (patch.clusterFailoverMs !== undefined) next.clusterFailoverMs = patch.clusterFailoverMs;
  if (patch.rdsRebootMs !== undefined) next.rdsRebootMs = patch.rdsRebootMs;
  if (patch.rdsModifyMs !== undefined) next.rdsModifyMs = patch.rdsModifyMs;
  if (patch.globalClusterPhaseMs !== undefined) next.globalClusterPhaseMs = patch.globalClusterPhaseMs;
  if (patch.throttling) Object.assign(next.throttling, structuredClone(patch.throttling));
  if (patch.outage) Object.assign(next.outage, structuredClone(patch.outage));
  if (patch.lagPublishIntervalMs !== undefined) next.lagPublishIntervalMs = patch.lagPublishIntervalMs;
  return next;
}
