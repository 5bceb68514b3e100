import type { Client } from '@temporalio/client';
import type { EvacuationProgress, ServiceState } from '../evacuations/evacuation-types';

/** What an abort of an evacuation does to one of its services, told to the operator with the acknowledgement. */
export interface AbortEffect {
  runbookId: string;
  state: ServiceState;
  effect: string;
}

/**
 * An evacuation's abort stops its running and paused failovers (each rolls back as its runbook allows, unless
 * `--no-rollback`) and starts nothing more; a service whose failover already succeeded stays failed over.
 */
function abortEffects(progress: EvacuationProgress, rollback: boolean): AbortEffect[] {
  return progress.services.map((service) => ({
    runbookId: service.runbookId,
    state: service.state,
    effect: effectOn(service.runbookId, service.state, rollback),
  }));
}

function effectOn(runbookId: string, state: ServiceState, rollback: boolean): string {
  switch (state) {
    case 'succeeded':
      return `stays failed over: an abort does not undo a completed failover; fail it back when ready (drctl failback ${runbookId} --help)`;
    case 'running':
    case 'paused':
      return rollback
        ? 'its failover is aborted, its completed steps undone as its runbook allows'
        : 'its failover is aborted; nothing is undone (--no-rollback)';
    case 'waiting':
    case 'blocked':
      return 'not started, and now it will not be';
    default:
      return `already ${state}: this abort does not change it`;
  }
}

/** An evacuation's services as the abort will leave them; undefined when the run is not an evacuation. */
export async function evacuationAbortEffects(
  client: Client,
  workflowId: string,
  runId: string | undefined,
  rollback: boolean,
): Promise<AbortEffect[] | undefined> {
  return client.workflow
    .getHandle(workflowId, runId)
    .query<EvacuationProgress>('evacuationProgress')
    .then(
      (progress) => abortEffects(progress, rollback),
      () => undefined,
    );
}
