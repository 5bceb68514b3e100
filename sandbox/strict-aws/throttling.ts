import { TokenBucket } from 'limiter';
import type { AwsError } from '../fault-proxy/error-bodies';
import type { StrictCall } from './strict-call';
import type { RateLimit, StrictAwsSettings } from './strict-settings';

function fullBucket(limit: RateLimit, parentBucket?: TokenBucket): TokenBucket {
  const bucket = new TokenBucket({
    bucketSize: limit.burst,
    tokensPerInterval: limit.perSecond,
    interval: 'second',
    parentBucket,
  });
  bucket.content = limit.burst; // a quiet account starts with its whole burst
  return bucket;
}

/** The bucket of `region` in `buckets`, made full at `limit` on first use. */
function regionalBucket(buckets: Map<string, TokenBucket>, region: string, limit: RateLimit): TokenBucket {
  let bucket = buckets.get(region);
  if (bucket === undefined) {
    bucket = fullBucket(limit);
    buckets.set(region, bucket);
  }
  return bucket;
}

/**
 * Token buckets as AWS applies them, when throttling is on:
 *
 * - Route 53: "All Amazon Route 53 API requests from your account" draw from one bucket, and "each API action
 *   also has its own bucket"; a request is throttled if either is empty, with HTTP 400 `Throttling`, "Rate
 *   exceeded" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html). The
 *   control plane is global, so the buckets are per account, not per region.
 * - RDS: one bucket "for each AWS account in each AWS Region", HTTP 400 `ThrottlingException`, "Rate exceeded"
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html).
 * - CloudWatch GetMetricData: 50 transactions per second per account and Region, an API quota of its own
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html); CloudWatch answers
 *   HTTP 400 `Throttling`, "Rate exceeded". Other CloudWatch APIs have other quotas drctl never nears: they pass.
 *
 * The sandbox is one account. Buckets start full and are rebuilt when the settings change. The codes are in the
 * SDK's list of throttling errors, so clients back off and retry them as throttling.
 */
export class Throttle {
  private route53Account: TokenBucket | undefined;
  private readonly route53Operations = new Map<string, TokenBucket>();
  private readonly rdsRegions = new Map<string, TokenBucket>();
  private readonly metricDataRegions = new Map<string, TokenBucket>();

  constructor(private readonly settings: () => StrictAwsSettings) {}

  /** Forgets every bucket (they refill at once): call after the rates change. */
  reset(): void {
    this.route53Account = undefined;
    this.route53Operations.clear();
    this.rdsRegions.clear();
    this.metricDataRegions.clear();
  }

  /** The throttling error for `call`, or undefined when it may pass (and has taken its tokens). */
  take(call: StrictCall): AwsError | undefined {
    const { throttling } = this.settings();
    if (!throttling.enabled) return undefined;
    if (call.info.service === 'route53') {
      this.route53Account ??= fullBucket(throttling.route53);
      let bucket = this.route53Operations.get(call.info.operation);
      if (bucket === undefined) {
        bucket = fullBucket(
          throttling.route53Operations[call.info.operation] ?? throttling.route53,
          this.route53Account,
        );
        this.route53Operations.set(call.info.operation, bucket);
      }
      if (bucket.tryRemoveTokens(1)) return undefined;
      return { status: 400, code: 'Throttling', message: 'Rate exceeded', type: 'Sender' };
    }
    if (call.info.service === 'rds') {
      if (regionalBucket(this.rdsRegions, call.region, throttling.rds).tryRemoveTokens(1)) return undefined;
      return { status: 400, code: 'ThrottlingException', message: 'Rate exceeded', type: 'Sender' };
    }
    if (call.info.service === 'cloudwatch' && call.info.operation === 'GetMetricData') {
      const bucket = regionalBucket(this.metricDataRegions, call.region, throttling.cloudwatchGetMetricData);
      if (bucket.tryRemoveTokens(1)) return undefined;
      return { status: 400, code: 'Throttling', message: 'Rate exceeded', type: 'Sender' };
    }
    return undefined;
  }
}
