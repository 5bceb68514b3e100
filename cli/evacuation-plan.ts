import type { Client } from '@temporalio/client';
import type { LoadedEvacuation } from '../evacuations/catalog';
import type { ReviewedPlanResult } from '../workflows/reviewed-plan';
import { planFailover, referenceTo } from './failover-runs';
import type { OperatorSigner } from './operator-signer';
import { renderPlan } from './render';
import { renderEvacuationPlan } from './render-evacuation';

/** Every runbook of an evacuation planned against current state, and the one verdict over them. */
export interface EvacuationPlan {
  plans: ReviewedPlanResult[];
  ready: boolean;
  /** The runbooks whose plan is NOT ready, in the evacuation's order. */
  notReady: string[];
}

/** Plans every runbook of an evacuation at once (each a plan workflow on the worker). */
export async function planEvacuationRunbooks(
  client: Client,
  taskQueue: string,
  loaded: LoadedEvacuation,
  signer: OperatorSigner,
): Promise<EvacuationPlan> {
  const plans = await Promise.all(
    Object.values(loaded.runbooks).map((runbook) =>
      planFailover(client, taskQueue, { runbook, reference: referenceTo(runbook) }, signer),
    ),
  );
  const notReady = plans.filter((plan) => !plan.ready).map((plan) => plan.runbookId);
  return { plans, ready: notReady.length === 0, notReady };
}

/** The waves, each runbook's plan and the verdict, as `drctl plan <evacuation>` prints them. */
export function renderEvacuationPlans(loaded: LoadedEvacuation, planned: EvacuationPlan): string {
  return [
    renderEvacuationPlan(loaded.evacuation),
    ...planned.plans.map((plan) => renderPlan(plan)),
    planned.ready
      ? `Evacuation verdict: ready (all ${planned.plans.length} runbooks).`
      : `Evacuation verdict: NOT ready: ${planned.notReady.join(', ')}.`,
  ].join('\n\n');
}
