import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { stepKind, type KindActivities } from '../kinds/registry';
import { isIrreversible, type PromotionState } from '../kinds/step-kind';
import type { Runbook } from '../runbooks/schema';
import { HEARTBEAT_TIMEOUT } from './activity-options';
import { innermostMessage } from './innermost-message';
import type { RollbackEntry } from './run-types';

/**
 * A step's effect as the run knows it: recorded before the activity that makes it was called (its undo read
 * from the estate then), and how far the step got: `started` (the activity was called; the run has not heard
 * back), `done`, `failed` (after its retries, so it may have acted in part) or `interrupted` by an abort.
 */
export interface EffectEntry {
  stepId: string;
  kind: string;
  undo?: unknown;
  willChange: boolean;
  /** The database a promotion step promotes. */
  promotion?: string;
  state: 'started' | 'done' | 'failed' | 'interrupted';
}

/** Whether a replica may be the primary now: a promotion finished, or was called and did not report back. */
export function promotionState(effects: readonly EffectEntry[]): PromotionState {
  const promotions = effects.filter((effect) => effect.promotion !== undefined);
  if (promotions.some((effect) => effect.state === 'done')) return 'completed';
  return promotions.length > 0 ? 'possible' : 'none';
}

/**
 * Undoes the steps' effects in reverse order, each through its kind's `undo`, from the state recorded before it
 * acted: completed steps, and steps that were interrupted or failed after calling their activity (their effect
 * may be in place; the undo is idempotent). A promotion is reported, not undone; once one completed (or may
 * have), kinds keep what would move traffic back to the old member or re-open it, and say so.
 */
export async function rollBack(runbook: Runbook, effects: readonly EffectEntry[]): Promise<RollbackEntry[]> {
  const activities = proxyActivities<KindActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 5, initialInterval: '1s', nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
  });
  const promotion = promotionState(effects);
  const entries: RollbackEntry[] = [];
  for (const effect of [...effects].reverse()) {
    const { stepId, kind, undo } = effect;
    if (undo === undefined) continue;
    const partial =
      effect.state === 'done'
        ? ''
        : `the step ${effect.state === 'started' ? 'did not finish' : effect.state}; `;
    if (isIrreversible(undo)) {
      entries.push({ stepId, status: 'not undone', detail: `${partial}${undo.reason}` });
      continue;
    }
    try {
      const outcome = await stepKind(kind).undo(undo, {
        runbook,
        activities,
        promotion,
        effect: effect.state === 'done' ? 'complete' : 'partial',
      });
      entries.push({ stepId, status: outcome.status, detail: `${partial}${outcome.detail}` });
    } catch (error) {
      entries.push({ stepId, status: 'failed', detail: `${innermostMessage(error)}; undo it by hand` });
    }
  }
  return entries;
}
