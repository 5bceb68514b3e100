import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { z } from 'zod';
import { MOTO_CREDENTIALS } from '../aws-clients';
import type { StrictCall, StrictOutcome } from './strict-call';

/**
 * The replication-lag metrics RDS and Aurora publish to CloudWatch, namespace `AWS/RDS`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html: ReplicaLag, seconds, per
 * DBInstanceIdentifier; https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html:
 * AuroraReplicaLag and AuroraGlobalDBRPOLag, milliseconds, here per DBClusterIdentifier).
 */
export const LAG_METRICS = {
  ReplicaLag: { dimension: 'DBInstanceIdentifier', unit: 'Seconds' },
  AuroraReplicaLag: { dimension: 'DBClusterIdentifier', unit: 'Milliseconds' },
  AuroraGlobalDBRPOLag: { dimension: 'DBClusterIdentifier', unit: 'Milliseconds' },
} as const;

export type LagMetricName = keyof typeof LAG_METRICS;

export const lagSeriesSchema = z.strictObject({
  metricName: z.enum(['ReplicaLag', 'AuroraReplicaLag', 'AuroraGlobalDBRPOLag']),
  /** The DBInstanceIdentifier (ReplicaLag) or DBClusterIdentifier (Aurora metrics). */
  resourceId: z.string().min(1),
  region: z.string().min(1),
});

/** One metric series the layer publishes: which metric, of which instance or cluster, in which region. */
export type LagSeries = z.infer<typeof lagSeriesSchema>;

export const lagValueSchema = z.strictObject({
  series: lagSeriesSchema,
  /** The lag in the metric's unit; null stops publishing, so reads find no datapoints. */
  value: z.number().min(0).nullable(),
});

export interface LagState extends LagSeries {
  value: number | null;
  unit: string;
  /** Since when the series holds `value`; reads see no datapoint of the sandbox's from before it. */
  since: number;
}

const NAMESPACE = 'AWS/RDS';
/** PutMetricData's limit: "The MetricData parameter ... can contain up to 1,000 items" (its API reference). */
const DATUMS_PER_PUT = 1_000;
const seriesKey = (s: LagSeries): string => `${s.region}|${s.metricName}|${s.resourceId}`;

/**
 * Publishes the lag metrics the sandbox controls to moto's CloudWatch, republishing every `intervalMs` as RDS
 * would, so a reader of the last minutes finds datapoints. Tests set a value (or null: no datapoints).
 *
 * CloudWatch keeps every datapoint and moto cannot delete one, so "the lag is now X" would still read the old
 * values of the same minute. Reads through the layer therefore see nothing of a controlled series from before its
 * last change (`clampRead`): to a reader the series looks as if it had held its current value (or been absent)
 * all along, which is what a test means.
 * moto compares StartTime in whole seconds, so a change starts at the next whole second: `set` waits for it
 * (under a second) before it publishes, and no older datapoint falls at or after that second.
 */
export class LagMetrics {
  private readonly series = new Map<string, LagState>();
  private readonly defaults = new Map<string, { series: LagSeries; value: number | null }>();
  private readonly clients = new Map<string, CloudWatchClient>();
  private timer: NodeJS.Timeout | undefined;
  /** A republishing round still in flight: the next tick skips rather than pile rounds onto a busy moto. */
  private round: Promise<void> | undefined;
  /** Sets waiting for their second, by that second: they publish together, one request a region. */
  private readonly dueAt = new Map<number, Promise<void>>();

  constructor(
    private readonly motoEndpoint: string,
    private readonly log: (line: string) => void,
  ) {}

  list(): LagState[] {
    return [...this.series.values()].map((state) => ({ ...state }));
  }

  /** Registers series the sandbox seeded, with the value `reset()` goes back to; sets them if not set yet. */
  async registerDefaults(entries: Array<{ series: LagSeries; value: number | null }>): Promise<void> {
    for (const entry of entries) this.defaults.set(seriesKey(entry.series), entry);
    const unset = entries.filter((entry) => !this.series.has(seriesKey(entry.series)));
    await this.setAll(unset);
  }

  set(series: LagSeries, value: number | null): Promise<void> {
    return this.setAll([{ series, value }]);
  }

  /** Sets every entry as of the next whole second, and publishes them then. */
  private async setAll(entries: Array<{ series: LagSeries; value: number | null }>): Promise<void> {
    const since = Math.floor(Date.now() / 1000) * 1000 + 1000;
    for (const { series, value } of entries)
      this.series.set(seriesKey(series), {
        ...series,
        value,
        unit: LAG_METRICS[series.metricName].unit,
        since,
      });
    await this.publishAt(since);
  }

  /**
   * Publishes, once the wall clock reaches `since`, every series set to start then and not set again since. Timers
   * may fire a little before the wall clock reaches `since`; publish() stamps no earlier than it.
   */
  private publishAt(since: number): Promise<void> {
    let due = this.dueAt.get(since);
    if (due === undefined) {
      due = new Promise((resolve) => setTimeout(resolve, since - Date.now() + 5)).then(() => {
        this.dueAt.delete(since);
        return this.publish(
          [...this.series.values()].filter((state) => state.since === since && state.value !== null),
        );
      });
      this.dueAt.set(since, due);
    }
    return due;
  }

  /**
   * Back to the registered defaults; series set only by tests are dropped. Series still at their default are
   * left alone unless `republish` (after a moto reset wiped CloudWatch).
   */
  async reset(options: { republish?: boolean } = {}): Promise<void> {
    for (const key of this.series.keys()) if (!this.defaults.has(key)) this.series.delete(key);
    const changed = [...this.defaults.entries()].filter(
      ([key, entry]) => options.republish || this.series.get(key)?.value !== entry.value,
    );
    await this.setAll(changed.map(([, entry]) => entry));
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      if (this.round !== undefined) return;
      const due = [...this.series.values()].filter((s) => s.value !== null && Date.now() >= s.since);
      this.round = this.publish(due).finally(() => (this.round = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    for (const client of this.clients.values()) client.destroy();
  }

  /**
   * For GetMetricStatistics (JSON protocol, one series): move StartTime up to the series' last change. GetMetricData
   * queries share one StartTime but may read series changed at different times (a coalesced read of many
   * replicas): the request goes as asked, and each query of a series the layer controls is answered as that series
   * would read had it held its value all along: its periods that end before the change are dropped, and the others
   * carry the value set (moto's period may mix in datapoints from before the change).
   */
  clampRead(call: StrictCall): StrictOutcome | undefined {
    if (call.body === undefined || call.protocol !== 'json' || this.series.size === 0) return undefined;
    const request = JSON.parse(call.body.toString('utf8')) as ReadRequest;
    if (request.MetricDataQueries !== undefined) return this.clampPerQuery(call.region, request);
    const since =
      request.MetricName === undefined
        ? undefined
        : this.stateOf(call.region, {
            Namespace: request.Namespace,
            MetricName: request.MetricName,
            Dimensions: request.Dimensions,
          })?.since;
    if (since === undefined) return undefined;
    const start = toMillis(request.StartTime);
    const end = toMillis(request.EndTime);
    // A window that ends before the change (a read while `set` waits for its second) is left as asked.
    if (start === undefined || start >= since || (end !== undefined && end <= since)) return undefined;
    request.StartTime = typeof request.StartTime === 'number' ? since / 1000 : new Date(since).toISOString();
    reachEndOfSecond(request, since);
    return { kind: 'forward', body: Buffer.from(JSON.stringify(request)) };
  }

  private clampPerQuery(region: string, request: ReadRequest): StrictOutcome | undefined {
    const end = toMillis(request.EndTime);
    const controlled = new Map<string, { state: LagState; periodMs: number; valueIsStat: boolean }>();
    for (const query of request.MetricDataQueries ?? []) {
      const state = query.MetricStat?.Metric ? this.stateOf(region, query.MetricStat.Metric) : undefined;
      // A window that ends before the series' change (a read while `set` waits for its second) reads as asked.
      if (query.Id !== undefined && state !== undefined && (end === undefined || end > state.since))
        controlled.set(query.Id, {
          state,
          periodMs: (query.MetricStat?.Period ?? 60) * 1000,
          // A period of one value has that value as its Maximum, Minimum and Average; not as its Sum or count.
          valueIsStat: ['Maximum', 'Minimum', 'Average'].includes(query.MetricStat?.Stat ?? ''),
        });
    }
    if (controlled.size === 0) return undefined;
    reachEndOfSecond(request, Math.max(...[...controlled.values()].map(({ state }) => state.since)));
    return {
      kind: 'forward',
      body: Buffer.from(JSON.stringify(request)),
      rewrite: (body) => {
        const answer = JSON.parse(body) as {
          MetricDataResults?: Array<{ Id?: string; Timestamps?: Array<number | string>; Values?: number[] }>;
        };
        for (const result of answer.MetricDataResults ?? []) {
          const read = result.Id === undefined ? undefined : controlled.get(result.Id);
          if (read === undefined) continue;
          const { state, periodMs, valueIsStat } = read;
          const kept =
            state.value === null
              ? []
              : (result.Timestamps ?? []).flatMap((at, i) =>
                  (toMillis(at) ?? 0) + periodMs > state.since
                    ? [[at, result.Values?.[i] ?? 0] as const]
                    : [],
                );
          result.Timestamps = kept.map(([at]) => at);
          result.Values = kept.map(([, value]) => (valueIsStat ? (state.value as number) : value));
        }
        return JSON.stringify(answer);
      },
    };
  }

  private stateOf(region: string, metric: MetricRef): LagState | undefined {
    if (metric.Namespace !== NAMESPACE || !(metric.MetricName in LAG_METRICS)) return undefined;
    const name = metric.MetricName as LagMetricName;
    const dimension = metric.Dimensions?.find((d) => d.Name === LAG_METRICS[name].dimension);
    if (dimension?.Value === undefined) return undefined;
    return this.series.get(seriesKey({ region, metricName: name, resourceId: dimension.Value }));
  }

  /**
   * One PutMetricData per region and up to `DATUMS_PER_PUT` series, not one per series: moto is one Python process,
   * and the fleet benchmark's 200 replicas made a request per series each interval on top of the evacuation's.
   */
  private async publish(states: LagState[]): Promise<void> {
    const byRegion = new Map<string, LagState[]>();
    for (const state of states) {
      const regional = byRegion.get(state.region);
      if (regional === undefined) byRegion.set(state.region, [state]);
      else regional.push(state);
    }
    const puts: Array<Promise<void>> = [];
    for (const [region, regional] of byRegion) {
      for (let i = 0; i < regional.length; i += DATUMS_PER_PUT)
        puts.push(this.put(region, regional.slice(i, i + DATUMS_PER_PUT)));
    }
    await Promise.all(puts);
  }

  private async put(region: string, states: LagState[]): Promise<void> {
    let client = this.clients.get(region);
    if (client === undefined) {
      // The SDK gzips bodies over 10 KB (a round of ~60 datums); moto answers those with an HTML error page.
      client = new CloudWatchClient({
        region,
        endpoint: this.motoEndpoint,
        credentials: MOTO_CREDENTIALS,
        disableRequestCompression: true,
      });
      this.clients.set(region, client);
    }
    try {
      await client.send(
        new PutMetricDataCommand({
          Namespace: NAMESPACE,
          MetricData: states.map((state) => ({
            MetricName: state.metricName,
            Dimensions: [{ Name: LAG_METRICS[state.metricName].dimension, Value: state.resourceId }],
            Value: state.value ?? 0,
            Unit: state.unit as 'Seconds' | 'Milliseconds',
            Timestamp: new Date(Math.max(Date.now(), state.since)),
          })),
        }),
      );
    } catch (error) {
      const what =
        states.length === 1 && states[0] ? seriesKey(states[0]) : `${states.length} series in ${region}`;
      this.log(`lag metrics: publishing ${what} to moto failed: ${(error as Error).message}`);
    }
  }
}

interface MetricRef {
  Namespace?: string;
  MetricName: string;
  Dimensions?: Array<{ Name?: string; Value?: string }>;
}

interface ReadRequest {
  StartTime?: number | string;
  EndTime?: number | string;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: MetricRef['Dimensions'];
  MetricDataQueries?: Array<{
    Id?: string;
    MetricStat?: { Metric?: MetricRef; Period?: number; Stat?: string };
  }>;
}

/**
 * moto (like CloudWatch) refuses StartTime equal to EndTime, and it compares whole seconds: a read within a
 * change's first second would miss the change's datapoint. Its window reaches the end of that second instead.
 */
function reachEndOfSecond(request: ReadRequest, since: number): void {
  const end = toMillis(request.EndTime);
  if (end !== undefined && end < since + 1000) {
    request.EndTime =
      typeof request.EndTime === 'number' ? since / 1000 + 1 : new Date(since + 1000).toISOString();
  }
}

/** JSON-protocol timestamps are epoch seconds; accept ISO strings too. */
function toMillis(value: number | string | undefined): number | undefined {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}
