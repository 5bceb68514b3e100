import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { CheckResult } from '../activities/contracts';
import type { KindActivities } from '../kinds/registry';
import type { LeafStep, Runbook, Step } from '../runbooks/schema';
import { activityOptionsFor } from './activity-options';
import { automaticPreflightStep, changesEstate } from './automatic-preflight';
import { runPreflightChecks } from './preflight-checks';
import { readAheadsFor } from './step-actions';

/** Runs that began after this make their pre-flight while held, when their parent asks (`readsWhileHeld`). */
export const READS_WHILE_HELD_PATCH = 'reads-while-held';

/**
 * Reads made while held serve the run only if its release comes within this long of their end (the slowest
 * check's): an evacuation releases the failovers it asked to read within seconds; a later release (a slow server)
 * makes the run read again. A quick check of the set may be older by the time the slowest one took, as in a
 * pre-flight made after the release.
 */
export const HELD_READS_FRESH_MS = 10_000;

/** Whether reads whose checks ended at `checksEndedAt` (undefined: still running) serve a release at `releasedAt`. */
export function heldReadsServe(releasedAt: number, checksEndedAt: number | undefined): boolean {
  return checksEndedAt === undefined || releasedAt - checksEndedAt <= HELD_READS_FRESH_MS;
}

/** The held pre-flight's checks, and how long before the release they ended (0: they ended after it). */
export interface HeldChecks {
  checks: Promise<CheckResult[]>;
  endedBeforeReleaseMs: number;
}

/**
 * The reads a held run makes while its parent has not released it yet: the pre-flight its first change needs
 * and the reads ahead of the step after that pre-flight (`readAheadsFor`). All are read-only. An evacuation
 * asks for them for the failovers it releases as soon as it holds every lock, so a released failover goes on
 * with its first change instead of starting its reads then. Not for a drill's failovers: their pre-flight must
 * see the failure the drill injects after taking the lock.
 */
export class HeldReads {
  private readonly scope = new CancellationScope();
  private checksEndedAt: number | undefined;
  private releasedAt: number | undefined;
  private ahead = new Map<string, Promise<unknown>>();
  private checks: Promise<CheckResult[]> | undefined;

  private constructor(
    /** The pre-flight the reads stand for: the runbook's own first step, or the automatic one. */
    readonly preflight: LeafStep,
    runbook: Runbook,
    after: Step | undefined,
  ) {
    const activities = proxyActivities<KindActivities>(activityOptionsFor(preflight));
    this.checks = this.scope.run(() => {
      this.ahead = readAheadsFor(preflight, after, runbook);
      return runPreflightChecks(runbook, activities);
    });
    void this.checks.then(
      () => (this.checksEndedAt = Date.now()),
      () => undefined,
    );
  }

  /**
   * Starts the reads when the run's first step is a pre-flight, or changes the estate (the automatic pre-flight
   * comes first); undefined otherwise (an approval, a wait: the reads would not be the next thing the run does).
   */
  static start(runbook: Runbook): HeldReads | undefined {
    const [first, second] = runbook.steps;
    if (first === undefined) return undefined;
    if (first.kind === 'preflight') return new HeldReads(first, runbook, second);
    if (changesEstate(first)) return new HeldReads(automaticPreflightStep(), runbook, first);
    return undefined;
  }

  /**
   * The hold ended. Released with the reads fresh: returns the reads ahead, by step id, for the run to use.
   * Otherwise the reads are cancelled and dropped: a released run reads as if it had not been held, one never
   * released reads nothing more. Nothing waits for the cancelled activities to stop. `now`: when the release was
   * seen, as recorded in the history (the parent read's time, `HoldOutcome`), so that a replay decides alike.
   */
  settle(released: boolean, now: number): Map<string, Promise<unknown>> {
    if (released && heldReadsServe(now, this.checksEndedAt)) {
      this.releasedAt = now;
      return this.ahead;
    }
    this.cancel();
    return new Map();
  }

  /** Cancels every held read still running (an abort), and drops the checks. */
  cancel(): void {
    this.scope.cancel();
    this.checks = undefined;
  }

  /** The pre-flight's checks, once, for the pre-flight step `stepId`; undefined when dropped or not that step. */
  takeChecks(stepId: string): HeldChecks | undefined {
    const { checks, releasedAt } = this;
    if (checks === undefined || releasedAt === undefined || stepId !== this.preflight.id) return undefined;
    this.checks = undefined;
    const ended = this.checksEndedAt;
    return { checks, endedBeforeReleaseMs: ended === undefined ? 0 : Math.max(0, releasedAt - ended) };
  }
}
