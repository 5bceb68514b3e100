import type { Client } from '@temporalio/client';
import { QUERYABLE_WORKFLOW_ID } from '../common/queryable-id';
import { startRefusal } from './failover-runs';
import { describeRun, summarise, type RunSummary } from './runs';

/** How many runs under one id are looked through for the newest one that ran. */
const RUNS_LOOKED_THROUGH = 100;
/**
 * Types whose workflow id names one run: a drill's, an evacuation drill's or an evacuation's id is made for it,
 * so any later run under it is a copy. A runbook's failovers and failbacks share its lock id: there the newest
 * run, refused or not, is the newest attempt, and the report stays that run's.
 */
const SINGLE_RUN_TYPES: ReadonlySet<string> = new Set([
  'drillWorkflow',
  'evacuationDrillWorkflow',
  'evacuationWorkflow',
]);

/** The run a report renders, and the newer run it passed over (a start the worker refused). */
export interface ReportedRun {
  run: RunSummary;
  passedOver?: RunSummary;
}

/**
 * The run `drctl report <id>` renders: the one `runId` names; else, under a drill's or an evacuation's id, the
 * newest run of its type that the worker did not refuse at its start. A refused start changed nothing, yet it
 * becomes the newest run under the id: a drill's start replayed from its history would otherwise hide the drill
 * an auditor asked for. When none of the newest runs under the id ran, the newest refusal is the report.
 */
export async function reportedRun(client: Client, workflowId: string, runId?: string): Promise<ReportedRun> {
  const newest = await describeRun(client, workflowId, runId);
  // drctl's ids are letters, digits and . _ : @ -; another id is rendered as named, never put into a query.
  if (
    runId !== undefined ||
    !SINGLE_RUN_TYPES.has(newest.workflowType) ||
    !QUERYABLE_WORKFLOW_ID.test(workflowId) ||
    !(await refusedAtStart(client, newest))
  )
    return { run: newest };
  const earlier: RunSummary[] = [];
  const query = `WorkflowId = '${workflowId}' AND WorkflowType = '${newest.workflowType}'`;
  for await (const execution of client.workflow.list({ query })) {
    if (execution.runId !== newest.runId) earlier.push(summarise(execution));
    if (earlier.length >= RUNS_LOOKED_THROUGH) break;
  }
  earlier.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  for (const run of earlier) if (!(await refusedAtStart(client, run))) return { run, passedOver: newest };
  return { run: newest };
}

/**
 * Refused at its start: it failed with the worker's refusal of its signed start, read from its recorded close.
 * Not its `DrctlOutcome` search attribute: whoever starts a run may preset that.
 */
async function refusedAtStart(client: Client, run: RunSummary): Promise<boolean> {
  if (run.status !== 'FAILED') return false;
  return client.workflow
    .getHandle(run.workflowId, run.runId, { followRuns: false })
    .result()
    .then(
      () => false,
      (error: unknown) => startRefusal(error) !== undefined,
    );
}
