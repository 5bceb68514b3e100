import type { Client } from '@temporalio/client';
import { askLedger } from '../evidence/ask-ledger';
import type { EvidenceRequest } from '../evidence/ledger-protocol';
import { BUNDLED_WORKFLOW_TYPES } from '../evidence/run-coverage';
import { CliError, ExitCode } from './cli-error';
import { readLedger } from './ledger-reader';

/**
 * Asks the ledger to bundle a closed run that never asked for its bundle (terminated, timed out, refused before
 * refusals were bundled): the ledger collects any closed run's history and result, as it does at a run's end.
 * Only a run of a kind that has bundles, closed, and not a drill's failover (the drill's bundle holds it).
 */
export async function requestBundle(
  client: Client,
  ledgerTaskQueue: string,
  workflowId: string,
  runId: string | undefined,
  /** The sequence of a bundle already naming the run: then nothing is requested. */
  bundledAt: (runId: string) => Promise<number | undefined>,
): Promise<{ request: EvidenceRequest } | { runId: string; sequence: number }> {
  const run = await client.workflow
    .getHandle(workflowId, runId)
    .describe()
    .catch((error: unknown) => {
      throw new CliError(
        'RunNotFound',
        `no run ${workflowId}${runId ? ` ${runId}` : ''} in Temporal (${(error as Error).message}): check the id with drctl runs`,
        ExitCode.BadInput,
      );
    });
  if (!(BUNDLED_WORKFLOW_TYPES as readonly string[]).includes(run.type))
    throw new CliError(
      'NotBundled',
      `${workflowId} is a ${run.type}: bundles are kept for failovers, failbacks and drills`,
      ExitCode.BadInput,
    );
  if (run.status.name === 'RUNNING')
    throw new CliError(
      'RunStillRunning',
      `${workflowId} is still running: its bundle is written when it ends`,
      ExitCode.BadInput,
    );
  const parent = run.parentExecution;
  if (parent?.workflowId) {
    const parentType = await client.workflow
      .getHandle(parent.workflowId, parent.runId ?? undefined)
      .describe()
      .then(
        (found) => found.type,
        () => undefined,
      );
    if (parentType === 'drillWorkflow')
      throw new CliError(
        'InDrillBundle',
        `${workflowId} is the failover of drill ${parent.workflowId}, whose bundle holds it: collect the drill (drctl evidence collect ${parent.workflowId} --run-id ${parent.runId})`,
        ExitCode.BadInput,
      );
  }
  const sequence = await bundledAt(run.runId);
  if (sequence !== undefined) return { runId: run.runId, sequence };
  const request: EvidenceRequest = {
    workflowId,
    runId: run.runId,
    workflowType: run.type,
    requestedAt: new Date().toISOString(),
  };
  await askLedger(client, ledgerTaskQueue, request);
  // The ledger ignores a run it handled among its last 1,000 (a request sent twice), bundled or dropped.
  const ledger = await readLedger(client).catch(() => null);
  const queued = ledger?.state?.pending.some((pending) => pending.runId === run.runId);
  if (queued === false && (await bundledAt(run.runId)) === undefined)
    throw new CliError(
      'LedgerIgnored',
      `the ledger did not queue ${workflowId} run ${run.runId}: it handled this run before and did not bundle it then (it was dropped as not bundleable); see the worker's log lines starting 'evidence:'`,
      ExitCode.Failed,
    );
  return { request };
}
