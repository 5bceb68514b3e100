/** A token bucket's shape: `burst` calls at once, refilled at `perSecond`. */
export interface ApiRate {
  burst: number;
  perSecond: number;
}

/**
 * The AWS APIs drctl paces. Route 53's control plane is global (one bucket per account); RDS, CloudWatch's
 * GetMetricData (the only CloudWatch API drctl calls) and EC2's DescribeSecurityGroups (the fence group's reads)
 * are per region.
 */
export type PacedApi = 'route53' | 'rds' | 'cloudwatch' | 'ec2';

export type AwsPacingLimits = Record<PacedApi, ApiRate>;

/**
 * AWS's published limits, per account: Route 53 "Throttling for Amazon Route 53 API requests" (burst 50, refill 10
 * per second since July 2026; older accounts 5 per second — set `aws.pacing.route53.perSecond` to 5 there); RDS
 * "Request throttling for the Amazon RDS API" (burst 300, 12 per second, per account and Region); CloudWatch
 * "service quotas" (GetMetricData 50 transactions per second per Region, adjustable; no burst published, so one
 * second's worth); EC2 "Request throttling for the Amazon EC2 API" (non-mutating actions such as
 * DescribeSecurityGroups: bucket 100, refill 20 per second, per account and Region).
 */
export const AWS_API_LIMITS: AwsPacingLimits = {
  route53: { burst: 50, perSecond: 10 },
  rds: { burst: 300, perSecond: 12 },
  cloudwatch: { burst: 50, perSecond: 50 },
  ec2: { burst: 100, perSecond: 20 },
};
