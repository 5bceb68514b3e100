import type { Client } from '@temporalio/client';
import { formatMs } from '../runbooks/duration';
import type { FailoverProgress, FailoverResult } from '../workflows/run-types';
import { readRun } from './failover-runs';
import { note } from './output';
import { timelineLine } from './render';

const POLL_MS = 500;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Shows a run live until it ends: each step's line once it finishes, and on a terminal a spinner with the
 * elapsed time of the steps still running. Returns the recorded result.
 */
export async function followRun(
  client: Client,
  workflowId: string,
  options: { live: boolean; runId?: string },
): Promise<FailoverResult> {
  const printed = new Set<string>();
  const interactive = options.live && process.stderr.isTTY === true;
  let frame = 0;
  for (;;) {
    const state = await readRun(client, workflowId, options.runId);
    const progress: FailoverProgress | undefined = state.closed ? state.result : state.progress;
    if (options.live && progress) {
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
      if (interactive && !state.closed) {
        const running = progress.timeline.filter((entry) => entry.status === 'running');
        const labels = running.map(
          (entry) => `${entry.stepId} ${formatMs(Date.now() - Date.parse(entry.startedAt))}`,
        );
        process.stderr.write(
          `${SPINNER[frame++ % SPINNER.length]} ${labels.join(', ') || 'waiting for the worker'}`,
        );
      }
    }
    if (state.closed) {
      if (state.result) return state.result;
      throw new Error(`run ${workflowId} ended as ${state.status} without a result: ${state.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
