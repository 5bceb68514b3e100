import type { Client } from '@temporalio/client';
import {
  LEDGER_WORKFLOW_ID,
  LEDGER_WORKFLOW_TYPE,
  RUN_ENDED_SIGNAL,
  type EvidenceRequest,
} from './ledger-protocol';

/** Queues a run at the namespace's ledger, starting the ledger if it does not run (signal-with-start). */
export async function askLedger(
  client: Client,
  ledgerTaskQueue: string,
  request: EvidenceRequest,
): Promise<void> {
  await client.workflow.signalWithStart(LEDGER_WORKFLOW_TYPE, {
    workflowId: LEDGER_WORKFLOW_ID,
    taskQueue: ledgerTaskQueue,
    args: [],
    signal: RUN_ENDED_SIGNAL,
    signalArgs: [request],
  });
}
