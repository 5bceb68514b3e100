import type { Client } from '@temporalio/client';
import { startRefusal } from './failover-runs';
import { describeRun, summarise, type RunSummary } from './runs';

/** How many runs under one id are looked through for the newest one that ran. */
const RUNS_LOOKED_THROUGH = 100;
const QUERYABLE_ID = /^[\w.:@-]+$/;

/** The run a report renders, and the newer run it passed over (a start the worker refused). */
export interface ReportedRun {
  run: RunSummary;
  passedOver?: RunSummary;
}

/**
 * The run `drctl report <id>` renders: the one `runId` names, else the newest under the id that ran. A start the
 * worker refused changed nothing, yet it becomes the newest run under its id: a drill's start replayed from its
 * history, or a failover an operator was not allowed to start, would otherwise hide the run an auditor asked for.
 * When every run under the id was refused, the newest refusal is the report.
 */
export async function reportedRun(client: Client, workflowId: string, runId?: string): Promise<ReportedRun> {
  const newest = await describeRun(client, workflowId, runId);
  // drctl's ids are letters, digits and . _ : @ -; another id is rendered as named, never put into a query.
  if (runId !== undefined || !QUERYABLE_ID.test(workflowId) || !(await refusedAtStart(client, newest)))
    return { run: newest };
  const earlier: RunSummary[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    if (execution.runId !== newest.runId) earlier.push(summarise(execution));
    if (earlier.length >= RUNS_LOOKED_THROUGH) break;
  }
  earlier.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  for (const run of earlier) if (!(await refusedAtStart(client, run))) return { run, passedOver: newest };
  return { run: newest };
}

/**
 * Refused at its start: its recorded outcome says so (a failover, an evacuation, a drill whose runbook's lock was
 * taken), or it failed with the worker's refusal of its signed start (a drill's, before any outcome is recorded).
 */
async function refusedAtStart(client: Client, run: RunSummary): Promise<boolean> {
  if (run.outcome === 'refused') return true;
  if (run.status !== 'FAILED') return false;
  return client.workflow
    .getHandle(run.workflowId, run.runId, { followRuns: false })
    .result()
    .then(
      () => false,
      (error: unknown) => startRefusal(error) !== undefined,
    );
}
