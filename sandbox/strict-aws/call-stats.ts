import { isMutating, type AwsService } from '../fault-proxy/classify';

/** What happened to the calls of one operation at the strict layer. */
export interface StrictOperationStats {
  service: AwsService;
  /** Every call that reached the layer. */
  calls: number;
  /** The same calls by the region they were signed for (RDS and CloudWatch buckets are per region). */
  callsByRegion: Record<string, number>;
  /** Calls passed on to moto. */
  forwarded: number;
  /** Forwarded calls moto answered with 2xx, plus calls the layer answered itself with 2xx. */
  succeeded: number;
  /** Calls answered with an AWS refusal, by error code (InvalidDBInstanceState, PriorRequestNotComplete, …). */
  refused: Record<string, number>;
  /** Calls answered with a throttling error. */
  throttled: number;
  /** Calls that met a region (or the Route 53 control plane) that was down. */
  unavailable: number;
  mutating: boolean;
}

export interface StrictStats {
  operations: Record<string, StrictOperationStats>;
  /** Successful mutating calls per operation: effects at the server boundary. */
  effects: Record<string, number>;
  totals: { calls: number; forwarded: number; refused: number; throttled: number; unavailable: number };
}

/** Per-operation counts, so tests and benchmarks count effects and refusals where they happen. */
export class CallStats {
  private operations = new Map<string, StrictOperationStats>();

  of(service: AwsService, operation: string): StrictOperationStats {
    let stats = this.operations.get(operation);
    if (stats === undefined) {
      stats = {
        service,
        calls: 0,
        callsByRegion: {},
        forwarded: 0,
        succeeded: 0,
        refused: {},
        throttled: 0,
        unavailable: 0,
        mutating: isMutating(operation),
      };
      this.operations.set(operation, stats);
    }
    return stats;
  }

  reset(): void {
    this.operations = new Map();
  }

  snapshot(): StrictStats {
    const operations = structuredClone(Object.fromEntries(this.operations));
    const list = Object.values(operations);
    const effects: Record<string, number> = {};
    for (const [name, s] of Object.entries(operations))
      if (s.mutating && s.succeeded > 0) effects[name] = s.succeeded;
    const sum = (pick: (s: StrictOperationStats) => number) => list.reduce((n, s) => n + pick(s), 0);
    return {
      operations,
      effects,
      totals: {
        calls: sum((s) => s.calls),
        forwarded: sum((s) => s.forwarded),
        refused: sum((s) => Object.values(s.refused).reduce((n, c) => n + c, 0)),
        throttled: sum((s) => s.throttled),
        unavailable: sum((s) => s.unavailable),
      },
    };
  }
}
