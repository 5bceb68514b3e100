/**
 * What the workflow and the activities exchange. Types only: workflow code imports this file, so it must stay
 * free of I/O and of anything but plain data.
 */
import type { DatabaseTarget, HttpProbe, SqlProbe, ZoneRef } from '../runbooks/schema';

/** The result of one mutating or verifying step activity. */
export interface StepOutcome {
  /** True when this attempt changed something; false when the effect was already there (idempotent re-run). */
  changed: boolean;
  /** One line for the operator: what was done, or found already done. */
  summary: string;
  /** Facts worth recording in the timeline: endpoints, change ids, versions. */
  facts: Record<string, string | number | boolean | null>;
  /** Milliseconds spent inside provider calls (AWS, PostgreSQL, Unleash) during this attempt. */
  providerMs: number;
  /** Temporal's attempt number of the activity (1 = first try). */
  attempt: number;
  /** How to undo this step's effect if the run is aborted, from the state the activity read before acting. */
  compensation?: Compensation;
}

/**
 * The undo of one completed step, run in reverse order when an operator aborts with rollback. `irreversible`
 * says why a step cannot be undone automatically (a promotion: fail back instead).
 */
export type Compensation =
  | {
      kind: 'flags.set';
      project: string;
      environment: string;
      flags: Array<{ name: string; enabled: boolean }>;
    }
  | { kind: 'dns.switch'; zone: ZoneRef; records: DnsRecordChange[] }
  | { kind: 'database.unfence'; database: DatabaseInput }
  | { kind: 'irreversible'; reason: string };

/** One read-only pre-flight check. */
export interface CheckResult {
  /** Stable name, e.g. `database ehr: replica exists`. */
  check: string;
  ok: boolean;
  /** Why it passed (the value seen) or why it failed and what to do. */
  message: string;
}

/** One change a step would make, computed against current state without changing anything. */
export interface PlannedChange {
  /** What is acted on, e.g. `postgres 127.0.0.3 (ehr replica)` or `A ehr-db.sandbox.drctl.internal.`. */
  target: string;
  current: string;
  desired: string;
  willChange: boolean;
}

export interface DatabaseInput {
  /** The target's name in `targets.databases`. */
  name: string;
  target: DatabaseTarget;
}

export interface PromoteOutcome extends StepOutcome {
  /** The endpoint of the member now confirmed writable; DNS may point here. */
  writableEndpoint: string;
}

export interface DnsRecordChange {
  name: string;
  type: 'A' | 'AAAA' | 'CNAME';
  ttl: number;
  value: string;
}

export interface DnsSwitchInput {
  zone: ZoneRef;
  records: DnsRecordChange[];
  checkResolution: boolean;
}

export interface DnsCheckInput {
  zone: ZoneRef;
  records: Array<{ name: string; type: 'A' | 'AAAA' | 'CNAME' }>;
}

export interface FlagsInput {
  project: string;
  environment: string;
  flags: Array<{ name: string; enabled: boolean }>;
}

export interface FlagsCheckInput {
  project: string;
  environment: string;
  names: string[];
}

export interface BackupsInput {
  bucket: string;
  region?: string;
  prefix: string;
  /** Already resolved by the workflow (step's maxAge, else the runbook's RPO). */
  maxAge: string;
  lockMode: 'COMPLIANCE' | 'GOVERNANCE';
  minRetention: string;
}

export interface ProbeInput {
  probe: SqlProbe | HttpProbe;
}

export interface DatabasePlan {
  changes: PlannedChange[];
  /** Where the promoted member will be reachable, so DNS plans can name their new value. */
  writableEndpoint: string;
}

/**
 * The activity surface the workflows call. `createActivities(deps)` returns an object of exactly this shape;
 * workflows use it only as a type through `proxyActivities<DrctlActivities>()`.
 */
export interface DrctlActivities {
  checkDatabase(input: DatabaseInput): Promise<CheckResult[]>;
  checkDnsRecords(input: DnsCheckInput): Promise<CheckResult[]>;
  checkFlags(input: FlagsCheckInput): Promise<CheckResult[]>;
  checkBackups(input: BackupsInput): Promise<CheckResult[]>;

  planFence(input: DatabaseInput): Promise<PlannedChange[]>;
  planPromote(input: DatabaseInput): Promise<DatabasePlan>;
  planDnsSwitch(input: DnsSwitchInput): Promise<PlannedChange[]>;
  planFlags(input: FlagsInput): Promise<PlannedChange[]>;

  fenceDatabase(input: DatabaseInput): Promise<StepOutcome>;
  /** Undoes a fence (abort before promotion): the old primary takes writes again. Idempotent. */
  unfenceDatabase(input: DatabaseInput): Promise<StepOutcome>;
  promoteDatabase(input: DatabaseInput): Promise<PromoteOutcome>;
  switchDns(input: DnsSwitchInput): Promise<StepOutcome>;
  setFlags(input: FlagsInput): Promise<StepOutcome>;
  verifyBackups(input: BackupsInput): Promise<StepOutcome>;
  runProbe(input: ProbeInput): Promise<StepOutcome>;
}
