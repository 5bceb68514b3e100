import type { Client } from '@temporalio/client';
import { LEDGER_QUERY, LEDGER_WORKFLOW_ID } from '../evidence/ledger-protocol';
import type { LedgerState } from '../workflows/evidence-ledger';

/** A query needs a worker to answer: with none polling the ledger's task queue, it is not waited for. */
const LEDGER_QUERY_TIMEOUT_MS = 5000;

/** The evidence ledger as Temporal has it: its status, and its queue when it runs and a worker answered. */
export interface LedgerReading {
  status: string;
  state?: LedgerState;
  /** Why the queue could not be read although it runs. */
  unanswered?: string;
}

/** Null when the namespace never had a ledger (no run has ended since evidence was configured). */
export async function readLedger(client: Client): Promise<LedgerReading | null> {
  const handle = client.workflow.getHandle(LEDGER_WORKFLOW_ID);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if ((error as { name?: string }).name === 'WorkflowNotFoundError') return null;
    throw error;
  }
  if (status !== 'RUNNING') return { status };
  let timer: NodeJS.Timeout | undefined;
  try {
    const state = await Promise.race([
      handle.query<LedgerState>(LEDGER_QUERY),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `no worker answered within ${LEDGER_QUERY_TIMEOUT_MS / 1000} s: is a worker polling the ledger's task queue?`,
              ),
            ),
          LEDGER_QUERY_TIMEOUT_MS,
        );
      }),
    ]);
    return { status, state };
  } catch (error) {
    return { status, unanswered: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
