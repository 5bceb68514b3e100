import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type DataLoader from 'dataloader';
import { KEEP_ALIVE_MS, keepingAlive } from '../poll-until';
import { serialBatchLoader } from '../serial-batch-loader';
import { SharedCallReaders } from '../aws-pacing/paced-client';
import { toRdsFailure } from './rds-errors';
import {
  LAG_METRIC_DIMENSION,
  LAG_METRIC_TO_MS,
  type LagMetricsPort,
  type LagQuery,
  type LagReading,
} from './lag-metrics-port';

const DEFAULT_WINDOW_MS = 5 * 60_000;

/** Series one GetMetricData call reads: "You can include as many as 500 MetricDataQuery structures" (API reference). */
const LAG_QUERIES_PER_CALL = 500;

/**
 * Lag from CloudWatch GetMetricData (one client per region, from the composition root).
 *
 * Reads are coalesced: every `latestLag` asked for in a region while that region's previous GetMetricData is in
 * flight goes out with the others as one call of up to 500 queries. GetMetricData has a quota of its own (50 per
 * second per region, CloudWatch service quotas): an evacuation's pre-flight checks 200 replicas' lag at once, one
 * call each was 200 calls in a second; now it is one or two.
 */
export function createLagMetricsAdapter(
  clientForRegion: (region: string) => CloudWatchClient,
  options: { keepAliveMs?: number } = {},
): LagMetricsPort {
  const keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
  const loaders = new Map<string, DataLoader<LagQuery, LagReading | null>>();
  const readers = new SharedCallReaders();
  return {
    latestLag(query: LagQuery): Promise<LagReading | null> {
      let loader = loaders.get(query.region);
      if (loader === undefined) {
        const region = query.region;
        loader = serialBatchLoader<LagQuery, LagReading | null>(
          (queries) => readers.send(() => readLags(clientForRegion, region, queries)),
          { maxBatchSize: LAG_QUERIES_PER_CALL },
        );
        loaders.set(region, loader);
      }
      // The batch goes out in the context of the activity that opened it, for as long as a reader still waits
      // (`SharedCallReaders`); every reader heartbeats itself.
      return keepingAlive(readers.read(loader.load(query)), keepAliveMs);
    },
  };
}

/** The period each query asks for: a datapoint's timestamp is the start of its period. */
const PERIOD_S = 60;

function sourceOf(query: LagQuery): string {
  return `${query.metricName} of ${query.resourceId} in ${query.region}`;
}

/**
 * One GetMetricData for `queries` (≤ 500, one region), over the longest window asked, following NextToken; for
 * each query the newest datapoint whose period reaches into its own window, or null (none, or -1: RDS says
 * replication is not active). When the call fails, each query fails with an error naming its own series.
 */
async function readLags(
  clientForRegion: (region: string) => CloudWatchClient,
  region: string,
  queries: readonly LagQuery[],
): Promise<Array<LagReading | null | Error>> {
  const end = new Date();
  const windowOf = (query: LagQuery) => query.windowMs ?? DEFAULT_WINDOW_MS;
  const start = new Date(end.getTime() - Math.max(...queries.map(windowOf)));
  const points = new Map<string, Array<{ at: Date; value: number }>>();
  try {
    const client = clientForRegion(region);
    let nextToken: string | undefined;
    do {
      const out = await client.send(
        new GetMetricDataCommand({
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampDescending',
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          MetricDataQueries: queries.map((query, i) => ({
            Id: `q${i}`,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/RDS',
                MetricName: query.metricName,
                Dimensions: [{ Name: LAG_METRIC_DIMENSION[query.metricName], Value: query.resourceId }],
              },
              Period: PERIOD_S,
              Stat: 'Maximum',
            },
          })),
        }),
      );
      for (const result of out.MetricDataResults ?? []) {
        if (result.Id === undefined) continue;
        const series = points.get(result.Id) ?? [];
        (result.Timestamps ?? []).forEach((at, k) => {
          const value = result.Values?.[k];
          if (typeof value === 'number') series.push({ at, value });
        });
        points.set(result.Id, series);
      }
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    const others = queries.length > 1 ? ` (read with ${queries.length - 1} other series)` : '';
    return queries.map((query) => {
      const failure = toRdsFailure(error, `CloudWatch GetMetricData ${sourceOf(query)}${others}`, region);
      return failure instanceof Error ? failure : new Error(String(failure));
    });
  }
  return queries.map((query, i) => {
    // CloudWatch stamps a period with its start and may round StartTime down: a period counts if it reaches into
    // the window, as a single read of this window would have returned it.
    const since = end.getTime() - windowOf(query) - PERIOD_S * 1000;
    const newest = (points.get(`q${i}`) ?? [])
      .filter((point) => point.at.getTime() > since)
      .sort((a, b) => b.at.getTime() - a.at.getTime())[0];
    if (newest === undefined || newest.value < 0) return null;
    return {
      lagMs: newest.value * LAG_METRIC_TO_MS[query.metricName],
      at: newest.at,
      source: sourceOf(query),
    };
  });
}
