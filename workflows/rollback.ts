import { proxyActivities } from '@temporalio/workflow';
import type { Compensation, DrctlActivities } from '../activities/contracts';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { HEARTBEAT_TIMEOUT } from './activity-options';
import { innermostMessage } from './innermost-message';
import type { RollbackEntry } from './run-types';

/** A completed step's undo, kept in the order the steps completed. */
export interface CompletedStep {
  stepId: string;
  compensation?: Compensation;
}

/**
 * Undoes completed steps in reverse order after an operator's abort. A fence is only lifted when no promotion
 * happened in this run: two writable primaries would be worse than the outage. Every entry says what happened.
 */
export async function rollBack(completed: CompletedStep[]): Promise<RollbackEntry[]> {
  const activities = proxyActivities<DrctlActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 5, initialInterval: '1s', nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
  });
  const promoted = completed.some((step) => step.compensation?.kind === 'irreversible');
  const entries: RollbackEntry[] = [];
  for (const { stepId, compensation } of [...completed].reverse()) {
    if (compensation === undefined) continue;
    try {
      switch (compensation.kind) {
        case 'irreversible':
          entries.push({ stepId, status: 'not undone', detail: compensation.reason });
          break;
        case 'flags.set': {
          const outcome = await activities.setFlags(compensation);
          entries.push({ stepId, status: 'undone', detail: outcome.summary });
          break;
        }
        case 'dns.switch': {
          const outcome = await activities.switchDns({
            zone: compensation.zone,
            records: compensation.records,
            checkResolution: true,
          });
          entries.push({ stepId, status: 'undone', detail: outcome.summary });
          break;
        }
        case 'database.unfence': {
          if (promoted) {
            entries.push({
              stepId,
              status: 'not undone',
              detail:
                'the old primary stays fenced: a replica was promoted in this run, and lifting the fence would make two writable primaries',
            });
            break;
          }
          const outcome = await activities.unfenceDatabase(compensation.database);
          entries.push({ stepId, status: 'undone', detail: outcome.summary });
          break;
        }
      }
    } catch (error) {
      entries.push({ stepId, status: 'failed', detail: `${innermostMessage(error)}; undo it by hand` });
    }
  }
  return entries;
}
