import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { toRdsFailure } from './rds-errors';
import {
  LAG_METRIC_DIMENSION,
  LAG_METRIC_TO_MS,
  type LagMetricsPort,
  type LagQuery,
  type LagReading,
} from './lag-metrics-port';

const DEFAULT_WINDOW_MS = 5 * 60_000;

/** Lag from CloudWatch GetMetricData (one client per region, from the composition root). */
export function createLagMetricsAdapter(
  clientForRegion: (region: string) => CloudWatchClient,
): LagMetricsPort {
  return {
    async latestLag(query: LagQuery): Promise<LagReading | null> {
      const end = new Date();
      const start = new Date(end.getTime() - (query.windowMs ?? DEFAULT_WINDOW_MS));
      const source = `${query.metricName} of ${query.resourceId} in ${query.region}`;
      try {
        const out = await clientForRegion(query.region).send(
          new GetMetricDataCommand({
            StartTime: start,
            EndTime: end,
            ScanBy: 'TimestampDescending',
            MetricDataQueries: [
              {
                Id: 'lag',
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/RDS',
                    MetricName: query.metricName,
                    Dimensions: [{ Name: LAG_METRIC_DIMENSION[query.metricName], Value: query.resourceId }],
                  },
                  Period: 60,
                  Stat: 'Maximum',
                },
              },
            ],
          }),
        );
        const result = out.MetricDataResults?.[0];
        const pairs = (result?.Timestamps ?? []).map((at, i) => ({ at, value: result?.Values?.[i] }));
        const newest = pairs
          .filter((p): p is { at: Date; value: number } => typeof p.value === 'number')
          .sort((a, b) => b.at.getTime() - a.at.getTime())[0];
        // No datapoint, or -1 (RDS: replication is not active): nothing measured.
        if (newest === undefined || newest.value < 0) return null;
        return { lagMs: newest.value * LAG_METRIC_TO_MS[query.metricName], at: newest.at, source };
      } catch (error) {
        throw toRdsFailure(error, `CloudWatch GetMetricData ${source}`, query.region);
      }
    },
  };
}
