import { regionUnreachableFailure } from '../../activities/aws-region';
import type { LagMetricsPort, LagQuery, LagReading } from '../../activities/database/lag-metrics-port';

/**
 * CloudWatch lag in memory: a series reads what the test set (in ms), or nothing at all (no datapoint) when it was
 * never set or was cleared, as for a metric RDS has stopped publishing.
 */
export class FakeLagMetrics implements LagMetricsPort {
  readonly series = new Map<string, number>();
  readonly regionsDown = new Set<string>();
  reads = 0;

  set(metricName: LagQuery['metricName'], resourceId: string, region: string, lagMs: number | null): void {
    const key = `${region}|${metricName}|${resourceId}`;
    if (lagMs === null) this.series.delete(key);
    else this.series.set(key, lagMs);
  }

  async latestLag(query: LagQuery): Promise<LagReading | null> {
    this.reads += 1;
    if (this.regionsDown.has(query.region)) {
      throw regionUnreachableFailure(
        query.region,
        'CloudWatch GetMetricData',
        'connection failed (ECONNRESET)',
      );
    }
    const lagMs = this.series.get(`${query.region}|${query.metricName}|${query.resourceId}`);
    if (lagMs === undefined) return null;
    return { lagMs, at: new Date(), source: `${query.metricName} of ${query.resourceId} in ${query.region}` };
  }
}
