import { proxyActivities } from '@temporalio/workflow';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { stepKind, type KindActivities } from '../kinds/registry';
import { isIrreversible } from '../kinds/step-kind';
import type { Runbook } from '../runbooks/schema';
import { HEARTBEAT_TIMEOUT } from './activity-options';
import { innermostMessage } from './innermost-message';
import type { RollbackEntry } from './run-types';

/** A completed step's undo data, kept in the order the steps completed. */
export interface CompletedStep {
  stepId: string;
  kind: string;
  compensation?: unknown;
}

/**
 * Undoes completed steps in reverse order after an operator's abort, each through its kind's `undo`. A step
 * whose effect is irreversible (a promotion) is reported, not undone; kinds decide what a completed promotion
 * forbids (a fence stays). Every entry says what happened.
 */
export async function rollBack(runbook: Runbook, completed: CompletedStep[]): Promise<RollbackEntry[]> {
  const activities = proxyActivities<KindActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 5, initialInterval: '1s', nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
  });
  const promoted = completed.some((step) => step.kind === 'database.promote');
  const entries: RollbackEntry[] = [];
  for (const { stepId, kind, compensation } of [...completed].reverse()) {
    if (compensation === undefined) continue;
    if (isIrreversible(compensation)) {
      entries.push({ stepId, status: 'not undone', detail: compensation.reason });
      continue;
    }
    try {
      const outcome = await stepKind(kind).undo(compensation, { runbook, activities, promoted });
      entries.push({ stepId, ...outcome });
    } catch (error) {
      entries.push({ stepId, status: 'failed', detail: `${innermostMessage(error)}; undo it by hand` });
    }
  }
  return entries;
}
