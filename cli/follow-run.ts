import type { Client } from '@temporalio/client';
import { formatMs } from '../runbooks/duration';
import type { FailoverProgress, FailoverResult, TimelineEntry } from '../workflows/run-types';
import { readRun, type RunState } from './failover-runs';
import { watchHistory, type HistoryNews } from '../activities/runs/history-watch';
import { note } from './output';
import { awaitingLines, timelineLine } from './render';
import { terminalSafe } from './terminal-safe';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_MS = 100;
/** Entries that no longer change: a follower asks only for what comes after them. */
const SETTLED = new Set<TimelineEntry['status']>(['succeeded', 'skipped', 'continued']);

/** The `progressSince` query's answer: the run's progress with only the timeline entries from `from` on. */
type ProgressSince = FailoverProgress & { timelineFrom: number };

/** What following a run reads of it, over gRPC or Temporal's HTTP API. */
export interface RunFeed {
  /** One item per answer of the history long poll; ends at the close event. */
  news(): AsyncIterable<HistoryNews>;
  query<T>(queryType: string, ...args: unknown[]): Promise<T>;
  /** The run's state once it has closed. */
  finalState(): Promise<RunState>;
}

/** A run followed over gRPC: the client's history long poll, queries and recorded result. */
export function grpcFeed(client: Client, workflowId: string, runId?: string): RunFeed {
  const handle = client.workflow.getHandle(workflowId, runId);
  return {
    news: () => watchHistory(client, workflowId, runId),
    query: (queryType, ...args) => handle.query(queryType, ...args),
    finalState: () => readRun(client, workflowId, runId),
  };
}

/**
 * Shows a run live until it ends: each step's line once it finishes, and on a terminal a spinner with the
 * elapsed time of the steps still running. Changes are seen when they happen: the CLI waits on the run's history
 * (a long poll that answers on each new event) and then asks the run only for the timeline after the entries it
 * already holds. The spinner ticks locally. Not live, it only waits for the close. Returns the recorded result.
 */
export async function followRun(
  client: Client,
  workflowId: string,
  options: { live: boolean; runId?: string },
): Promise<FailoverResult> {
  return followFeed(grpcFeed(client, workflowId, options.runId), workflowId, options);
}

/** `followRun` over any feed (gRPC or the HTTP API). */
export async function followFeed(
  feed: RunFeed,
  workflowId: string,
  options: { live: boolean },
): Promise<FailoverResult> {
  const printed = new Set<string>();
  const interactive = options.live && process.stderr.isTTY === true;
  const timeline: TimelineEntry[] = [];
  let frame = 0;
  const spin = () => {
    const running = timeline.filter((entry) => entry.status === 'running');
    const labels = running.map(
      (entry) => `${entry.stepId} ${formatMs(Date.now() - Date.parse(entry.startedAt))}`,
    );
    process.stderr.write(
      `\r\x1b[K${SPINNER[frame++ % SPINNER.length]} ${labels.join(', ') || 'waiting for the worker'}`,
    );
  };
  const spinner = interactive ? setInterval(spin, SPINNER_MS) : undefined;

  /** Approvals already shown, with who had approved then: shown again when someone approves. */
  const shownApprovals = new Set<string>();
  const show = (progress: FailoverProgress) => {
    if (!options.live) return;
    if (interactive) process.stderr.write('\r\x1b[K');
    for (const [index, entry] of progress.timeline.entries()) {
      const key = `${index}:${entry.status}`;
      if (entry.status === 'running' || printed.has(key)) continue;
      printed.add(key);
      note(timelineLine(entry));
      if (entry.status === 'paused') {
        note(
          `  paused for an operator: drctl decide ${workflowId} ${entry.stepId} retry|skip|abort --reason "<why>"`,
        );
      }
    }
    // A step waiting for an approval is "running" in the timeline: what it waits for, and the command, go here
    // (a step paused for a decision has its own line above).
    for (const waiting of progress.awaiting ?? []) {
      if (waiting.kind !== 'approval') continue;
      const key = `${waiting.stepId}:${waiting.approvers?.approvedBy.join(',') ?? ''}`;
      if (shownApprovals.has(key)) continue;
      shownApprovals.add(key);
      for (const line of awaitingLines(progress, waiting)) note(line);
    }
  };

  try {
    for await (const news of feed.news()) {
      if (news.closed) break;
      // Without live output (--output json) nothing is shown before the end, so the run is not asked: the worker
      // answers a query between the run's workflow tasks, and a query per task cost a failover ~115 ms.
      if (!options.live || !news.progressed) continue;
      const delta = await progressSince(feed, settledCount(timeline));
      if (delta === undefined) continue;
      timeline.splice(delta.timelineFrom, timeline.length - delta.timelineFrom, ...delta.timeline);
      show({ ...delta, timeline });
    }
    const state = await feed.finalState();
    if (state.closed && state.result) {
      show(state.result);
      return state.result;
    }
    throw new Error(
      `run ${workflowId} ended as ${'status' in state ? state.status : 'unknown'} without a result${'message' in state ? `: ${terminalSafe(state.message)}` : ''}`,
    );
  } finally {
    if (spinner) {
      clearInterval(spinner);
      process.stderr.write('\r\x1b[K');
    }
  }
}

function settledCount(timeline: TimelineEntry[]): number {
  let count = 0;
  while (count < timeline.length && SETTLED.has((timeline[count] as TimelineEntry).status)) count++;
  return count;
}

/** The run's progress after its first `from` timeline entries; the whole progress from a run without that query. */
export async function progressSince(feed: RunFeed, from: number): Promise<ProgressSince | undefined> {
  try {
    return await feed.query<ProgressSince>('progressSince', from);
  } catch (error) {
    if (isUnknownQuery(error)) {
      return { ...(await feed.query<FailoverProgress>('progress')), timelineFrom: 0 };
    }
    const message = (error as Error).message ?? '';
    if (/workflow.*(completed|closed)|not found|was rejected/i.test(message)) return undefined;
    throw error;
  }
}

/**
 * A run whose workflow code has no such query (a run of an older worker): the gRPC client throws
 * QueryNotRegisteredError, the HTTP API carries the workflow's own words.
 */
function isUnknownQuery(error: unknown): boolean {
  const { name = '', message = '' } = (error ?? {}) as { name?: string; message?: string };
  return (
    name === 'QueryNotRegisteredError' || /did not register a handler for|unknown queryType/i.test(message)
  );
}
