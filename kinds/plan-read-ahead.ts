/**
 * How long after it answered a plan read ahead still stands for the step's own read, by default: the step before
 * ran that long (the read overlapped its work). Older (a wait or an approval came between), the step reads again.
 * A kind whose read only informs its record may allow longer (`freshPlan`'s `freshMs`).
 */
export const PLAN_READ_AHEAD_FRESH_MS = 2_000;

/** A plan read while the step before ran, and when the workflow saw the answer (its clock: deterministic). */
export interface PlanReadAhead<P> {
  plan: P;
  answeredAt: number;
}

/** A kind's `readAhead` of its plan: `read`, stamped with the time of the workflow task that saw it answer. */
export function readPlanAhead<P>(read: Promise<P>): Promise<PlanReadAhead<P>> {
  return read.then((plan) => ({ plan, answeredAt: Date.now() }));
}

/**
 * The plan read ahead if it is still fresh. Synchronous on purpose: the step awaits `context.readAhead` itself,
 * only when there is one, so a run without a read ahead issues its own read in the same tick as before (replay).
 */
export function freshPlan<P>(
  ahead: PlanReadAhead<P> | undefined,
  freshMs: number = PLAN_READ_AHEAD_FRESH_MS,
): P | undefined {
  return ahead !== undefined && Date.now() - ahead.answeredAt <= freshMs ? ahead.plan : undefined;
}
