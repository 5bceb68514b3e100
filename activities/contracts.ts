/**
 * What the workflows and the activities exchange, shared by every step kind. Types only: workflow code imports
 * this file, so it must stay free of I/O and of anything but plain data. Each kind's own inputs live in its
 * definition (`kinds/<kind>/definition.ts`); the whole activity surface is `KindActivities` in `kinds/registry.ts`.
 */
import type { DatabaseTarget, RunbookMode } from '../runbooks/schema';

/** The result of one mutating or verifying step activity. */
export interface StepOutcome<U = unknown> {
  /** True when this attempt changed something; false when the effect was already there (idempotent re-run). */
  changed: boolean;
  /** One line for the operator: what was done, or found already done. */
  summary: string;
  /** Facts worth recording in the timeline: endpoints, change ids, versions. */
  facts: Record<string, string | number | boolean | null>;
  /**
   * Milliseconds spent inside provider calls (AWS, PostgreSQL, Unleash) during this attempt, and waiting between
   * polls while the provider still reported its operation in progress (see `countProviderWait`).
   */
  providerMs: number;
  /** Temporal's attempt number of the activity (1 = first try). */
  attempt: number;
  /**
   * How to undo this step's effect if the run is aborted (the kind's undo data, read before acting), or why it
   * cannot be undone automatically.
   */
  compensation?: U | Irreversible;
}

/** An effect no automatic undo reverses (a promotion: fail back instead); the reason is shown in rollbacks. */
export interface Irreversible {
  kind: 'irreversible';
  reason: string;
}

/** One read-only pre-flight check. */
export interface CheckResult {
  /** Stable name, e.g. `database ehr: replica exists`. */
  check: string;
  ok: boolean;
  /** Why it passed (the value seen) or why it failed and what to do. */
  message: string;
  /** Milliseconds inside provider calls of the read that produced this check (checks of one read share it). */
  providerMs?: number;
}

/** One change a step would make, computed against current state without changing anything. */
export interface PlannedChange {
  /** What is acted on, e.g. `postgres 127.0.0.3 (ehr replica)` or `A ehr-db.sandbox.drctl.internal.`. */
  target: string;
  current: string;
  desired: string;
  willChange: boolean;
  /**
   * What the step's undo needs of the state read here (e.g. the security groups an RDS fence replaces): the
   * step records it with its undo before the effect, so a retry after a crash and the undo know it from the
   * run's history rather than from a marker written on the resource.
   */
  undoDetail?: Record<string, string | string[] | boolean | undefined>;
}

export interface DatabaseInput {
  /** The target's name in `targets.databases`. */
  name: string;
  target: DatabaseTarget;
  /** The runbook's mode; absent means unplanned (what a runbook without a `mode` declares). */
  mode?: RunbookMode;
  /** Decisions operators took at this step's gates, passed back to the activity that asked for them. */
  approvals?: {
    /** Who approved promoting although replication lag could not be measured (`acceptUnknownLag`). */
    unknownLag?: string;
    /** Who approved promoting although the replica had not replayed the fenced primary's last WAL (unplanned only). */
    dataLoss?: string;
  };
  /**
   * The workflow run whose fence this call goes on with, when not the calling run: a fence follow-up's first run.
   * Each continue-as-new starts a new run, and a fence its previous run's last round left unfinished is still its own.
   */
  fenceRun?: string;
}

export interface PromoteOutcome extends StepOutcome {
  /** The endpoint of the member now confirmed writable; DNS may point here. */
  writableEndpoint: string;
}

export interface DatabasePlan {
  changes: PlannedChange[];
  /** Where the promoted member will be reachable, so DNS plans can name their new value. */
  writableEndpoint: string;
}
