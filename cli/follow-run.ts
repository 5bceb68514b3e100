import type { Client } from '@temporalio/client';
import { formatMs } from '../runbooks/duration';
import type { FailoverProgress, FailoverResult, TimelineEntry } from '../workflows/run-types';
import { readRun } from './failover-runs';
import { watchHistory } from '../activities/runs/history-watch';
import { note } from './output';
import { timelineLine } from './render';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_MS = 100;
/** Entries that no longer change: a follower asks only for what comes after them. */
const SETTLED = new Set<TimelineEntry['status']>(['succeeded', 'skipped', 'continued']);

/** The `progressSince` query's answer: the run's progress with only the timeline entries from `from` on. */
type ProgressSince = FailoverProgress & { timelineFrom: number };

/**
 * Shows a run live until it ends: each step's line once it finishes, and on a terminal a spinner with the
 * elapsed time of the steps still running. Changes are seen when they happen: the CLI waits on the run's history
 * (a long poll that answers on each new event) and then asks the run only for the timeline after the entries it
 * already holds. The spinner ticks locally. Returns the recorded result.
 */
export async function followRun(
  client: Client,
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
  };

  try {
    for await (const news of watchHistory(client, workflowId)) {
      if (news.closed) break;
      if (!news.progressed) continue;
      const delta = await progressSince(client, workflowId, settledCount(timeline));
      if (delta === undefined) continue;
      timeline.splice(delta.timelineFrom, timeline.length - delta.timelineFrom, ...delta.timeline);
      show({ ...delta, timeline });
    }
    const state = await readRun(client, workflowId);
    if (state.closed && state.result) {
      show(state.result);
      return state.result;
    }
    throw new Error(
      `run ${workflowId} ended as ${'status' in state ? state.status : 'unknown'} without a result${'message' in state ? `: ${state.message}` : ''}`,
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
async function progressSince(
  client: Client,
  workflowId: string,
  from: number,
): Promise<ProgressSince | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await handle.query<ProgressSince, [number]>('progressSince', from);
  } catch (error) {
    const message = (error as Error).message ?? '';
    if (/not registered|unknown queryType|QueryNotRegistered/i.test(message)) {
      return { ...(await handle.query<FailoverProgress>('progress')), timelineFrom: 0 };
    }
    if (/workflow.*(completed|closed)|not found/i.test(message)) return undefined;
    throw error;
  }
}
