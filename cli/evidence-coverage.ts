import type { Client } from '@temporalio/client';
import {
  BUNDLED_WORKFLOW_TYPES,
  runCoverage,
  type ClosedRun,
  type RunCoverage,
} from '../evidence/run-coverage';
import type { Since, VerifyReport } from '../evidence/verify-chain';
import type { DrctlConfig } from '../worker/config';
import { readLedger } from './ledger-reader';
import { summarise } from './runs';
import { connectClient } from './temporal-connection';

/**
 * `drctl evidence verify`'s second half: the runs Temporal shows closed, from the chain's first bundle on (or
 * `--since`), each named by a verified manifest, queued at the ledger, or reported missing. Temporal out of reach
 * leaves the chain's own verdict standing, and says the comparison was not made.
 */
export async function compareWithClosedRuns(
  config: DrctlConfig,
  report: VerifyReport,
  since: Since | undefined,
  bundledOutsideRange: (runId: string) => Promise<boolean>,
): Promise<RunCoverage | { notCompared: string }> {
  let connected: Awaited<ReturnType<typeof connectClient>>;
  try {
    connected = await connectClient(config);
  } catch (error) {
    return { notCompared: (error as Error).message };
  }
  try {
    const from = windowStart(report, since);
    const inError = new Set(report.problems.map((problem) => problem.sequence));
    const named = new Set(
      report.entries.filter((entry) => !inError.has(entry.sequence)).flatMap((entry) => entry.runIds ?? []),
    );
    return await runCoverage({
      closed: await closedRuns(connected.client, from),
      from,
      named,
      queued: await queuedAtLedger(connected.client),
      ...(since === undefined ? {} : { bundledOutsideRange }),
      now: new Date(),
    });
  } finally {
    await connected.close();
  }
}

/** From `--since`'s date, or the first verified bundle's run: runs before a chain began are not in it. */
function windowStart(report: VerifyReport, since: Since | undefined): string | null {
  if (since !== undefined && 'date' in since) return since.date.toISOString();
  return report.entries[0]?.closedAt ?? null;
}

async function closedRuns(client: Client, from: string | null): Promise<ClosedRun[]> {
  const types = BUNDLED_WORKFLOW_TYPES.map((type) => `'${type}'`).join(', ');
  const query = [
    `WorkflowType IN (${types})`,
    `ExecutionStatus != 'Running'`,
    ...(from === null ? [] : [`CloseTime >= '${from}'`]),
  ].join(' AND ');
  const runs: ClosedRun[] = [];
  for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
    const run = summarise(execution);
    runs.push({
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      status: run.status,
      outcome: run.outcome,
      closedAt: run.closedAt ?? run.startedAt,
    });
  }
  return runs.sort((a, b) => a.closedAt.localeCompare(b.closedAt));
}

/**
 * The run ids waiting at the ledger; none when it does not run or no worker answers (its runs are then reported
 * without a bundle, with the hint to check the ledger).
 */
async function queuedAtLedger(client: Client): Promise<Set<string>> {
  const ledger = await readLedger(client).catch(() => null);
  return new Set((ledger?.state?.pending ?? []).map((request) => request.runId));
}
