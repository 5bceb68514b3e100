import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { INITIATOR_KEY, KIND_KEY, OUTCOME_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import { FAILBACK_SUFFIX } from '../common/run-lock';
import { durationToMs, isDuration } from '../runbooks/duration';
import { CliError, ExitCode } from './cli-error';
import { parseCalendarDate } from './calendar-date';

/** The kinds of run drctl starts, as recorded in the `DrctlKind` search attribute. */
export const RUN_KINDS = ['failover', 'failback', 'drill', 'plan', 'evacuation', 'fence-follow-up'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** Temporal's execution statuses an operator filters by, in drctl's words. */
export const RUN_STATUSES = [
  'running',
  'completed',
  'failed',
  'canceled',
  'terminated',
  'timed-out',
] as const;
export type RunStatusFilter = (typeof RUN_STATUSES)[number];

const STATUS_QUERY: Record<RunStatusFilter, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
};

/** Workflow types drctl registers, for runs started before their kind was recorded. */
const KIND_OF_TYPE: Record<string, RunKind> = {
  failoverWorkflow: 'failover',
  drillWorkflow: 'drill',
  planWorkflow: 'plan',
  evacuationWorkflow: 'evacuation',
  evacuationDrillWorkflow: 'drill',
  fenceFollowUpWorkflow: 'fence-follow-up',
};

export interface RunFilters {
  runbook?: string;
  kind?: RunKind;
  status?: RunStatusFilter;
  /** A duration back from now (`24h`, `7d`) or an ISO date. */
  since?: string;
}

export interface RunSummary {
  /** Runs of one runbook that change its estate share a workflow id (its lock) and differ by run id. */
  workflowId: string;
  runId: string;
  kind: RunKind | 'unknown';
  /** The workflow type: a drill of a runbook (`drillWorkflow`) or of an evacuation (`evacuationDrillWorkflow`). */
  workflowType: string;
  /** The runbook's id, or the evacuation's for an evacuation and a drill of one. */
  runbookId: string | null;
  /** Temporal's execution status, e.g. RUNNING, COMPLETED, FAILED. */
  status: string;
  /**
   * drctl's verdict where it recorded one: succeeded, failed, aborted; passed, called-off or refused for a drill; refused for a start the
   * access policy or a lock refused; not-released for a failover its parent held and never released (no change).
   */
  outcome: string | null;
  initiator: string | null;
  startedAt: string;
  closedAt: string | null;
}

/** The visibility query for the filters; values are checked first, so nothing reaches the query unquoted. */
export function runsQuery(filters: RunFilters, now: Date): string {
  const clauses = [`${KIND_KEY.name} IS NOT NULL`];
  if (filters.runbook !== undefined) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(filters.runbook)) {
      throw new CliError(
        'BadRunbookFilter',
        `--runbook must be a runbook id such as ehr-db (got "${filters.runbook}")`,
        ExitCode.BadInput,
      );
    }
    // A failback of a runbook records its derived runbook's id (see `failbackRunbook`), and so do its plans and
    // fence follow-ups: they are runs of that runbook too.
    const failback = `${filters.runbook}${FAILBACK_SUFFIX}`;
    clauses.push(
      `(${RUNBOOK_KEY.name} = '${filters.runbook}' OR (${RUNBOOK_KEY.name} = '${failback}' AND ${KIND_KEY.name} IN ('failback', 'plan', 'fence-follow-up')))`,
    );
  }
  if (filters.kind !== undefined) clauses.push(`${KIND_KEY.name} = '${filters.kind}'`);
  if (filters.status !== undefined) clauses.push(`ExecutionStatus = '${STATUS_QUERY[filters.status]}'`);
  if (filters.since !== undefined)
    clauses.push(`StartTime >= '${sinceTime(filters.since, now).toISOString()}'`);
  return clauses.join(' AND ');
}

/** Runs drctl started that match `query` (see `runsQuery`), at most `limit`, newest first, from Temporal's visibility. */
export async function listRuns(client: Client, query: string, limit: number): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  for await (const execution of client.workflow.list({ query })) {
    runs.push(summarise(execution));
    if (runs.length >= limit) break;
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** What kind of run an id names (the latest run with that id, or `runId`), from its search attributes or type. */
export async function describeRun(client: Client, workflowId: string, runId?: string): Promise<RunSummary> {
  return summarise(await client.workflow.getHandle(workflowId, runId).describe());
}

export function summarise(execution: Omit<WorkflowExecutionInfo, 'raw'>): RunSummary {
  return summariseRun({
    workflowId: execution.workflowId,
    runId: execution.runId,
    type: execution.type,
    status: execution.status.name,
    startTime: execution.startTime,
    closeTime: execution.closeTime,
    keyword: (key) => execution.typedSearchAttributes.get(key),
  });
}

/** What `summariseRun` needs of a described execution, however it was read (gRPC client or HTTP API). */
export interface DescribedExecution {
  workflowId: string;
  runId: string;
  type: string;
  /** Temporal's status name: RUNNING, COMPLETED, FAILED… */
  status: string;
  startTime: Date;
  closeTime?: Date;
  keyword(key: SearchAttributeKey<'KEYWORD'>): string | undefined;
}

export function summariseRun(execution: DescribedExecution): RunSummary {
  const recorded = execution.keyword(KIND_KEY);
  const kind = (RUN_KINDS as readonly string[]).includes(recorded ?? '')
    ? (recorded as RunKind)
    : (KIND_OF_TYPE[execution.type] ?? 'unknown');
  return {
    workflowId: execution.workflowId,
    runId: execution.runId,
    kind,
    workflowType: execution.type,
    runbookId: execution.keyword(RUNBOOK_KEY) ?? null,
    status: execution.status,
    outcome: execution.keyword(OUTCOME_KEY) ?? null,
    initiator: execution.keyword(INITIATOR_KEY) ?? null,
    startedAt: execution.startTime.toISOString(),
    closedAt: execution.closeTime?.toISOString() ?? null,
  };
}

function sinceTime(since: string, now: Date): Date {
  const at = isDuration(since) ? new Date(now.getTime() - durationToMs(since)) : parseCalendarDate(since);
  if (at === undefined) {
    throw new CliError(
      'BadSince',
      `--since must be a duration back from now (24h, 7d) or a date (2026-11-01 or 2026-11-01T09:00:00Z); got "${since}"`,
      ExitCode.BadInput,
    );
  }
  // Before 1970 no run started, and Temporal's visibility refuses such times (or the date is no date at all).
  if (!(at.getTime() >= 0)) {
    throw new CliError(
      'BadSince',
      `--since "${since}" reaches back before 1970-01-01: give a duration such as 90d or 730d, or a date from 1970 on`,
      ExitCode.BadInput,
    );
  }
  return at;
}
