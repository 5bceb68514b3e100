/**
 * Whether every run that should have an evidence bundle has one: the chain proves what it holds, not that it holds
 * everything. Temporal's closed failovers, drills and drills of evacuations are compared with the runs the chain's
 * manifests name (a drill's failover is named in the drill's bundle; an evacuation's record is in its failovers'
 * bundles and its drill's). A run with none is reported with what most likely happened and what to keep instead.
 */

/** The workflow types whose runs ask the ledger for a bundle when they end. */
export const BUNDLED_WORKFLOW_TYPES = [
  'failoverWorkflow',
  'drillWorkflow',
  'evacuationDrillWorkflow',
] as const;

/** A run's bundle is written moments after it closes: runs closed this recently are pending, not missing. */
export const BUNDLE_GRACE_MS = 2 * 60_000;

export interface ClosedRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** Temporal's close status: COMPLETED, FAILED, TERMINATED, TIMED_OUT, CANCELLED… */
  status: string;
  /** drctl's recorded outcome (refused, succeeded…), when it recorded one. */
  outcome: string | null;
  closedAt: string;
  /** The run that started it, if any: a drill's failover is recorded in the drill's bundle. */
  parent?: { workflowId: string; runId: string };
}

/** A drill whose failover a run is, and how it stands. */
export interface ParentDrill {
  workflowId: string;
  runId: string;
  status: string;
}

export interface UnbundledRun extends ClosedRun {
  /** The drill whose bundle should have named it. */
  drill?: ParentDrill;
  /** What most likely happened, and what to keep instead of the missing bundle. */
  hint: string;
}

export interface RunCoverage {
  /** Runs closed at or after this were compared (the chain's first bundle, or `--since`); null: every run. */
  from: string | null;
  checked: number;
  unbundled: UnbundledRun[];
  /** Closed moments ago, queued at the ledger, or in a drill still running: their bundles are still to come. */
  pending: ClosedRun[];
  /** Why the ledger's queue could not be read (its runs then count as missing once past the grace). */
  ledgerUnread?: string;
}

export interface CoverageInput {
  /** Temporal's closed runs of the bundled types, closed at or after `from`. */
  closed: readonly ClosedRun[];
  from: string | null;
  /** Run ids the verified manifests name (their runs' and their children's). */
  named: ReadonlySet<string>;
  /** Run ids queued at the ledger, or why its queue could not be read. */
  queued: ReadonlySet<string> | { unread: string };
  /** Whether a bundle outside the verified range names the run (`--since` verifies part of the chain). */
  bundledOutsideRange?: (runId: string) => Promise<boolean>;
  /** When the chain was read: a run closed after it may be bundled after it too. */
  now: Date;
  /** The parent when it is a drill of a runbook (read only for runs no manifest names). */
  drillOf: (parent: { workflowId: string; runId: string }) => Promise<ParentDrill | undefined>;
}

export async function runCoverage(input: CoverageInput): Promise<RunCoverage> {
  const unbundled: UnbundledRun[] = [];
  const pending: ClosedRun[] = [];
  for (const run of input.closed) {
    if (input.named.has(run.runId)) continue;
    const queued = 'unread' in input.queued ? false : input.queued.has(run.runId);
    const recent = mayStillAsk(run) && input.now.getTime() - Date.parse(run.closedAt) < BUNDLE_GRACE_MS;
    const drill = run.parent === undefined ? undefined : await input.drillOf(run.parent);
    // A drill's failover closes long before the drill ends (it waits for the service, then measures).
    if (queued || recent || drill?.status === 'RUNNING') {
      pending.push(run);
      continue;
    }
    if (input.bundledOutsideRange !== undefined && (await input.bundledOutsideRange(run.runId))) continue;
    unbundled.push({ ...run, ...(drill === undefined ? {} : { drill }), hint: hintFor(run, drill) });
  }
  return {
    from: input.from,
    checked: input.closed.length,
    unbundled,
    pending,
    ...('unread' in input.queued ? { ledgerUnread: input.queued.unread } : {}),
  };
}

/** A terminated or timed-out run never asks for its bundle, however recently it closed. */
function mayStillAsk(run: ClosedRun): boolean {
  return run.status !== 'TERMINATED' && run.status !== 'TIMED_OUT';
}

/** Temporal keeps a closed run for the namespace's retention: until then the ledger can still bundle it. */
function collect(workflowId: string, runId: string): string {
  return `bundle it from what Temporal still holds, before the namespace's retention ends it: drctl evidence collect ${workflowId} --run-id ${runId}`;
}

const DRILL_TYPES: ReadonlySet<string> = new Set(['drillWorkflow', 'evacuationDrillWorkflow']);

function hintFor(run: ClosedRun, drill: ParentDrill | undefined): string {
  const keep = collect(run.workflowId, run.runId);
  if (drill !== undefined)
    return `its record belongs in the bundle of its drill ${drill.workflowId}, which ended ${drill.status.toLowerCase()} without one: ${collect(drill.workflowId, drill.runId)}`;
  if (run.status === 'TERMINATED')
    return `it was terminated, and a terminated run never asks for its bundle: ${keep}`;
  if (run.status === 'TIMED_OUT') return `it timed out, and such a run never asks for its bundle: ${keep}`;
  // A drill asks for its bundle however it ends, refused too: a missing one is the ledger's.
  if (run.outcome === 'refused' && !DRILL_TYPES.has(run.workflowType))
    return `its start was refused; runs refused before drctl bundled refusals asked for none: ${keep}`;
  return "the ledger did not write it: check `drctl status drctl-evidence-ledger` and the worker's log (lines starting 'evidence:')";
}
