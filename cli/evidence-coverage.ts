import type { Client } from '@temporalio/client';
import {
  BUNDLED_WORKFLOW_TYPES,
  runCoverage,
  type ClosedRun,
  type ParentDrill,
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
  /** When the chain's reading began: a run bundled while it was read is judged as of then. */
  chainReadAt: Date,
): Promise<RunCoverage | { notCompared: string }> {
  let connected: Awaited<ReturnType<typeof connectClient>>;
  try {
    connected = await connectClient(config);
  } catch (error) {
    return { notCompared: (error as Error).message };
  }
  try {
    const inError = new Set(report.problems.map((problem) => problem.sequence));
    const verified = report.entries.filter((entry) => !inError.has(entry.sequence));
    const from = windowStart(verified, since);
    const named = new Set(verified.flatMap((entry) => entry.runIds ?? []));
    return await runCoverage({
      closed: await closedRuns(connected.client, from),
      from,
      named,
      queued: await queuedAtLedger(connected.client),
      ...(since === undefined ? {} : { bundledOutsideRange }),
      now: chainReadAt,
      drillOf: (parent) => drillOf(connected.client, parent),
    });
  } finally {
    await connected.close();
  }
}

/** From `--since`'s date, or the first verified bundle's run: runs before a chain began are not in it. */
function windowStart(verified: VerifyReport['entries'], since: Since | undefined): string | null {
  if (since !== undefined && 'date' in since) return since.date.toISOString();
  // A time from a manifest goes into the visibility query: only as the ISO form Date gives it back.
  const first = Date.parse(verified[0]?.closedAt ?? '');
  return Number.isNaN(first) ? null : new Date(first).toISOString();
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
    const parentId = execution.parentExecution?.workflowId;
    const parentRunId = execution.parentExecution?.runId;
    runs.push({
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      status: run.status,
      outcome: run.outcome,
      closedAt: run.closedAt ?? run.startedAt,
      ...(parentId && parentRunId ? { parent: { workflowId: parentId, runId: parentRunId } } : {}),
    });
  }
  return runs.sort((a, b) => a.closedAt.localeCompare(b.closedAt));
}

/** The parent, when it is a drill of a runbook, with its status; undefined for any other parent. */
async function drillOf(
  client: Client,
  { workflowId, runId }: { workflowId: string; runId: string },
): Promise<ParentDrill | undefined> {
  const parent = await client.workflow
    .getHandle(workflowId, runId)
    .describe()
    .catch(() => undefined);
  return parent?.type === 'drillWorkflow' ? { workflowId, runId, status: parent.status.name } : undefined;
}

/** The run ids waiting at the ledger, or why its queue could not be read (then said with the comparison). */
async function queuedAtLedger(client: Client): Promise<Set<string> | { unread: string }> {
  try {
    const ledger = await readLedger(client);
    // Never started, or stopped: it holds no queue (what a stopped ledger held is lost).
    if (ledger === null || ledger.status !== 'RUNNING') return new Set();
    if (ledger.state === undefined) return { unread: ledger.unanswered ?? 'no answer' };
    return new Set(ledger.state.pending.map((request) => request.runId));
  } catch (error) {
    return { unread: (error as Error).message };
  }
}
