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
}

export interface UnbundledRun extends ClosedRun {
  /** What most likely happened, and what to keep instead of the missing bundle. */
  hint: string;
}

export interface RunCoverage {
  /** Runs closed at or after this were compared (the chain's first bundle, or `--since`); null: every run. */
  from: string | null;
  checked: number;
  unbundled: UnbundledRun[];
  /** Closed moments ago, or queued at the ledger: their bundles are still being written. */
  pending: ClosedRun[];
}

export interface CoverageInput {
  /** Temporal's closed runs of the bundled types, closed at or after `from`. */
  closed: readonly ClosedRun[];
  from: string | null;
  /** Run ids the verified manifests name (their runs' and their children's). */
  named: ReadonlySet<string>;
  /** Run ids queued at the ledger. */
  queued: ReadonlySet<string>;
  /** Whether a bundle outside the verified range names the run (`--since` verifies part of the chain). */
  bundledOutsideRange?: (runId: string) => Promise<boolean>;
  now: Date;
}

export async function runCoverage(input: CoverageInput): Promise<RunCoverage> {
  const unbundled: UnbundledRun[] = [];
  const pending: ClosedRun[] = [];
  for (const run of input.closed) {
    if (input.named.has(run.runId)) continue;
    if (
      input.queued.has(run.runId) ||
      (mayStillAsk(run) && input.now.getTime() - Date.parse(run.closedAt) < BUNDLE_GRACE_MS)
    ) {
      pending.push(run);
      continue;
    }
    if (input.bundledOutsideRange !== undefined && (await input.bundledOutsideRange(run.runId))) continue;
    unbundled.push({ ...run, hint: hintFor(run) });
  }
  return { from: input.from, checked: input.closed.length, unbundled, pending };
}

/** A terminated or timed-out run never asks for its bundle, however recently it closed. */
function mayStillAsk(run: ClosedRun): boolean {
  return run.status !== 'TERMINATED' && run.status !== 'TIMED_OUT';
}

function hintFor(run: ClosedRun): string {
  const keep = `keep its history with the evidence before the namespace's retention ends it (temporal workflow show --workflow-id ${run.workflowId} --run-id ${run.runId} --output json)`;
  if (run.status === 'TERMINATED')
    return `it was terminated, and a terminated run never asks for its bundle: ${keep}`;
  if (run.status === 'TIMED_OUT') return `it timed out, and such a run never asks for its bundle: ${keep}`;
  if (run.outcome === 'refused')
    return `its start was refused; runs refused before drctl bundled refusals asked for none: ${keep}`;
  return "the ledger did not write it: check `drctl status drctl-evidence-ledger` and the worker's log (lines starting 'evidence:')";
}
