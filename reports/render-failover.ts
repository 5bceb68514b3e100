/**
 * A failover's timeline as report files for its evidence bundle: Markdown (the same lines `drctl status`
 * prints, under a summary) and JSON (the recorded result with stable key order).
 */
import { renderSummary, renderTimeline } from '../cli/render';
import type { FailoverResult } from '../workflows/run-types';
import { escapeMarkdown as md } from './escape';
import { sortedKeys } from './render-json';

export function renderFailoverMarkdown(result: FailoverResult): string {
  return [
    `# ${result.status.toUpperCase()}: failover ${md(result.workflowId)} of runbook ${md(result.runbookId)}`,
    '',
    md(renderSummary(result)),
    '',
    '```text',
    renderTimeline(result).replace(/```/g, "'''"),
    '```',
    '',
  ].join('\n');
}

export function renderFailoverJson(result: FailoverResult): string {
  return `${JSON.stringify(sortedKeys(result), null, 2)}\n`;
}
