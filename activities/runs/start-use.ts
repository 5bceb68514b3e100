import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { STATEMENT_MAX_SKEW_MS } from '../../auth/operator-authority';
import { PermanentFailure, permanentFailure } from '../failures';
import type { RunRecordDeps } from './recorded-failover';
import type { StartUseActivities } from './start-use-contracts';

/**
 * A start statement is signed before its run exists, so it names the workflow id, not the run; runs of one
 * runbook share that id (its lock). The run's own nonce check covers one run only, so the worker looks for the
 * statement in the other runs under the id that could have used it: those started no earlier than it was
 * signed, less the clock skew allowed. Usually there are none and this is one visibility query.
 */
export function createStartUseActivities(deps: RunRecordDeps | undefined): StartUseActivities {
  return {
    findEarlierStartUse: async ({ workflowId, runId, nonce, signedAt }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          'this worker has no Temporal client for checking that a signed start was not used by an earlier run; it is built by the worker (worker/run-worker.ts)',
        );
      const signedMs = Date.parse(signedAt);
      if (!/^[\w.:@-]+$/.test(workflowId) || Number.isNaN(signedMs))
        throw permanentFailure(
          PermanentFailure.NotAuthorized,
          `the start cannot be checked against earlier runs: the workflow id must be letters, digits and . _ : @ -, and the statement's time a date (got ${JSON.stringify(workflowId)}, ${JSON.stringify(signedAt)})`,
        );
      const since = new Date(signedMs - STATEMENT_MAX_SKEW_MS).toISOString();
      const { temporal } = deps;
      const query = `WorkflowId = '${workflowId}' AND StartTime >= '${since}'`;
      for await (const execution of temporal.workflow.list({ query })) {
        if (execution.runId === runId) continue;
        if ((await startNonceOf(temporal, workflowId, execution.runId)) === nonce)
          return { usedBy: { runId: execution.runId, startedAt: execution.startTime.toISOString() } };
      }
      return {};
    },
  };
}

/** The nonce of the start statement a run began with: the first event of its history, decoded (it is encrypted). */
async function startNonceOf(temporal: Client, workflowId: string, runId: string): Promise<unknown> {
  const response = await temporal.workflowService.getWorkflowExecutionHistory({
    namespace: temporal.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
    skipArchival: true,
  });
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const input = await decodeFromPayloadsAtIndex<{ start?: { statement?: { nonce?: unknown } } } | undefined>(
    temporal.options.loadedDataConverter,
    0,
    started?.input?.payloads,
  );
  return input?.start?.statement?.nonce;
}
