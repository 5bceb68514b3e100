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
 * `drctl evidence verify` with the runs Temporal shows closed: from the chain's first bundle on (or `--since`), each
 * must be named by a verified manifest, be queued at the ledger, or be reported missing (which fails the report).
 * Temporal out of reach leaves the chain's own verdict standing, and says the comparison was not made.
 */
export async function verifyWithClosedRuns(
  config: DrctlConfig,
  readChain: () => Promise<VerifyReport>,
  since: Since | undefined,
  bundledOutsideRange: (runId: string) => Promise<boolean>,
): Promise<VerifyReport> {
  let connected: Awaited<ReturnType<typeof connectClient>>;
  try {
    connected = await connectClient(config);
  } catch (error) {
    return { ...(await readChain()), runs: { notCompared: (error as Error).message } };
  }
  try {
    // The ledger's queue before the chain: a run it writes in between is then in one or the other.
    const queued = await queuedAtLedger(connected.client);
    const chainReadAt = new Date();
    const report = await readChain();
    const runs = await coverageOf(connected.client, report, since, queued, bundledOutsideRange, chainReadAt);
    return { ...report, runs, ok: report.ok && runs.unbundled.length === 0 };
  } finally {
    await connected.close();
  }
}

async function coverageOf(
  client: Client,
  report: VerifyReport,
  since: Since | undefined,
  queued: Awaited<ReturnType<typeof queuedAtLedger>>,
  bundledOutsideRange: (runId: string) => Promise<boolean>,
  /** When the chain's reading began: a run closed after it may be bundled after it too. */
  chainReadAt: Date,
): Promise<RunCoverage> {
  const inError = new Set(report.problems.map((problem) => problem.sequence));
  const verified = report.entries.filter((entry) => !inError.has(entry.sequence));
  const from = windowStart(verified, since);
  const named = new Set(verified.flatMap((entry) => entry.runIds ?? []));
  // Many failovers share a parent (an evacuation's): each parent is read once.
  const parentDrills = new Map<string, Promise<ParentDrill | undefined>>();
  return await runCoverage({
    closed: await closedRuns(client, from),
    from,
    named,
    queued,
    ...(since === undefined ? {} : { bundledOutsideRange }),
    now: chainReadAt,
    drillOf: (parent) => onceEach(parentDrills, parent.runId, () => drillOf(client, parent)),
  });
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

function onceEach<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  const found = cache.get(key) ?? read();
  cache.set(key, found);
  return found;
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
