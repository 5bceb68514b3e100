import type { StrictStats } from './strict-aws/call-stats';
import type { LagSeries, LagState } from './strict-aws/lag-metrics';
import type {
  OutageMode,
  RateLimit,
  StrictAwsSettings,
  StrictSettingsPatch,
} from './strict-aws/strict-settings';

export type { StrictStats, StrictOperationStats } from './strict-aws/call-stats';
export type { LagMetricName, LagSeries, LagState } from './strict-aws/lag-metrics';
export type {
  OutageMode,
  RateLimit,
  StrictAwsSettings,
  StrictSettingsPatch,
} from './strict-aws/strict-settings';

/** An error from the layer's control API (bad input is HTTP 400 with the field named). */
export class StrictAwsControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StrictAwsControlError';
  }
}

/**
 * A typed client of the strict AWS layer's control API, for tests and benchmarks:
 * `const aws = strictAwsControl(stack.moto.controlUrl); await aws.regionDown('us-east-1');`.
 * Every change lasts until `reset()` (which `resetStack` also does for the `aws` part).
 */
export class StrictAwsControl {
  constructor(readonly controlUrl: string) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.controlUrl}/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const payload = (await response.json()) as T & { error?: string };
    if (!response.ok) {
      throw new StrictAwsControlError(
        response.status,
        `strict AWS layer ${method} ${path} answered HTTP ${response.status}: ${payload.error ?? JSON.stringify(payload)}`,
      );
    }
    return payload;
  }

  settings(): Promise<StrictAwsSettings> {
    return this.call('GET', 'settings');
  }

  update(patch: StrictSettingsPatch): Promise<StrictAwsSettings> {
    return this.call('POST', 'settings', patch);
  }

  /** Strict defaults, counters zeroed, lag metrics back to their seeded values. `estate` also forgets promotions etc. (after a moto reset). */
  reset(options: { estate?: boolean } = {}): Promise<StrictAwsSettings> {
    return this.call('POST', 'reset', options);
  }

  async regionDown(region: string, mode?: OutageMode): Promise<StrictAwsSettings> {
    const { outage } = await this.settings();
    return this.update({
      outage: { regionsDown: [...new Set([...outage.regionsDown, region])], ...(mode ? { mode } : {}) },
    });
  }

  async regionUp(region: string): Promise<StrictAwsSettings> {
    const { outage } = await this.settings();
    return this.update({ outage: { regionsDown: outage.regionsDown.filter((r) => r !== region) } });
  }

  route53ControlPlane(state: 'up' | 'down'): Promise<StrictAwsSettings> {
    return this.update({ outage: { route53ControlPlaneDown: state === 'down' } });
  }

  throttling(options: {
    enabled: boolean;
    route53?: RateLimit;
    rds?: RateLimit;
    cloudwatchGetMetricData?: RateLimit;
  }): Promise<StrictAwsSettings> {
    return this.update({ throttling: options });
  }

  propagation(milliseconds: number): Promise<StrictAwsSettings> {
    return this.update({ route53PropagationMs: milliseconds });
  }

  rules(rules: Partial<StrictAwsSettings['rules']>): Promise<StrictAwsSettings> {
    return this.update({ rules });
  }

  /** Sets a lag metric's value (in its unit: seconds for ReplicaLag, milliseconds for the Aurora ones). */
  setLag(series: LagSeries, value: number): Promise<LagState[]> {
    return this.call('POST', 'lag', { series, value });
  }

  /** Stops publishing a lag metric: reads of it find no datapoints. */
  stopLag(series: LagSeries): Promise<LagState[]> {
    return this.call('POST', 'lag', { series, value: null });
  }

  lag(): Promise<LagState[]> {
    return this.call('GET', 'lag');
  }

  registerLagDefaults(entries: Array<{ series: LagSeries; value: number | null }>): Promise<LagState[]> {
    return this.call('POST', 'lag/defaults', entries);
  }

  stats(): Promise<StrictStats> {
    return this.call('GET', 'stats');
  }

  resetStats(): Promise<StrictStats> {
    return this.call('POST', 'stats/reset');
  }
}

export function strictAwsControl(controlUrl: string): StrictAwsControl {
  return new StrictAwsControl(controlUrl);
}
