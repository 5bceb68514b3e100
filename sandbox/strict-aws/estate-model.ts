import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** An Aurora FailoverDBCluster in progress: the cluster reports `failing-over` with its old writer until `until`. */
export interface ClusterFailover {
  oldWriter: string | undefined;
  until: number;
}

/** A global switchover or failover in progress (moto has neither call). */
export interface GlobalOperation {
  kind: 'switchover' | 'failover';
  fromArn: string;
  toArn: string;
  allowDataLoss: boolean;
  startedAt: number;
  phaseMs: number;
}

export type GlobalPhase = 'pending' | 'active' | 'done';

interface PersistedFacts {
  promotedInstances: string[];
  globalWriters: Record<string, string>;
}

/**
 * What the layer knows about the estate that moto does not show as AWS would: which read replicas were promoted
 * (moto keeps their source), which cluster writes for each global database after a switchover, and the changes
 * still in flight. Facts that must outlive a restart of the layer (while moto keeps its state) are saved to
 * `stateFile`; a moto reset through the layer, or `forget()`, clears everything.
 */
/** What an RDS instance reports while an operation is applied: it refuses a reboot or a modification meanwhile. */
export type BusyStatus = 'rebooting' | 'modifying';

export class EstateModel {
  /** `region/instanceId` of every instance promoted through the layer. */
  readonly promoted = new Set<string>();
  /** Global cluster id → ARN of its writer cluster, once a switchover or failover has completed. */
  readonly globalWriters = new Map<string, string>();
  /** Route 53 hosted zone id → its newest change and when that change is INSYNC. */
  readonly zoneChanges = new Map<string, { changeId: string; insyncAt: number }>();
  /** Route 53 change id → when it is INSYNC. */
  readonly changeInsyncAt = new Map<string, number>();
  /** `region/clusterId` → a FailoverDBCluster in progress. */
  readonly clusterFailovers = new Map<string, ClusterFailover>();
  /** Global cluster id → its switchover or failover in progress. */
  readonly globalOperations = new Map<string, GlobalOperation>();
  /** `region/instanceId` → the reboot or modification in progress, and when it ends. */
  private readonly busy = new Map<string, { status: BusyStatus; until: number }>();

  constructor(private readonly stateFile?: string) {
    if (stateFile === undefined || !existsSync(stateFile)) return;
    const facts = JSON.parse(readFileSync(stateFile, 'utf8')) as PersistedFacts;
    for (const key of facts.promotedInstances) this.promoted.add(key);
    for (const [id, arn] of Object.entries(facts.globalWriters)) this.globalWriters.set(id, arn);
  }

  forget(): void {
    this.promoted.clear();
    this.globalWriters.clear();
    this.zoneChanges.clear();
    this.changeInsyncAt.clear();
    this.clusterFailovers.clear();
    this.globalOperations.clear();
    this.busy.clear();
    this.save();
  }

  /** The instance reports `status` until `until` (a reboot, or a modification being applied). */
  markBusy(region: string, instanceId: string, status: BusyStatus, until: number): void {
    this.busy.set(`${region}/${instanceId}`, { status, until });
  }

  /** What `region/instanceId` is busy with at `now`, if anything (one that has ended is forgotten). */
  busyAs(region: string, instanceId: string, now: number): BusyStatus | undefined {
    const key = `${region}/${instanceId}`;
    const busy = this.busy.get(key);
    if (busy === undefined) return undefined;
    if (now < busy.until) return busy.status;
    this.busy.delete(key);
    return undefined;
  }

  /** Whether any instance may still be busy (a cheap test before rewriting a describe). */
  hasBusy(): boolean {
    return this.busy.size > 0;
  }

  markPromoted(region: string, instanceId: string): void {
    this.promoted.add(`${region}/${instanceId}`);
    this.save();
  }

  isPromoted(region: string, instanceId: string): boolean {
    return this.promoted.has(`${region}/${instanceId}`);
  }

  /** The phase of a global operation at `now`: pending, then active (switching-over / failing-over), then done. */
  static phaseOf(operation: GlobalOperation, now: number): GlobalPhase {
    const elapsed = now - operation.startedAt;
    if (elapsed < operation.phaseMs) return 'pending';
    if (elapsed < 2 * operation.phaseMs) return 'active';
    return 'done';
  }

  /** Completes the global operations that are done at `now`: their target becomes the writer. */
  settleGlobalOperations(now: number): void {
    let changed = false;
    for (const [id, operation] of this.globalOperations) {
      if (EstateModel.phaseOf(operation, now) !== 'done') continue;
      this.globalWriters.set(id, operation.toArn);
      this.globalOperations.delete(id);
      changed = true;
    }
    if (changed) this.save();
  }

  /** The cluster failover in progress for `region/clusterId` at `now`, if any. */
  clusterFailoverAt(region: string, clusterId: string, now: number): ClusterFailover | undefined {
    const failover = this.clusterFailovers.get(`${region}/${clusterId}`);
    if (failover === undefined) return undefined;
    if (now < failover.until) return failover;
    this.clusterFailovers.delete(`${region}/${clusterId}`);
    return undefined;
  }

  private save(): void {
    if (this.stateFile === undefined) return;
    const facts: PersistedFacts = {
      promotedInstances: [...this.promoted],
      globalWriters: Object.fromEntries(this.globalWriters),
    };
    mkdirSync(dirname(this.stateFile), { recursive: true });
    writeFileSync(this.stateFile, JSON.stringify(facts, null, 2) + '\n');
  }
}
