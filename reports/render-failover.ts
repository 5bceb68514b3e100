/**
 * A failover's (or failback's) record as a post-incident report: Markdown (a summary, every step with its wall
 * clock times, the checks that failed, who acted and when, the rollback) and JSON (the recorded result with stable
 * key order). `drctl report <failover run>` prints them; a run's evidence bundle keeps them.
 */
import { authorizationLines, renderSummary } from '../cli/render';
import { formatMs } from '../runbooks/duration';
import type { FailoverResult } from '../workflows/run-types';
import { escapeMarkdown, markdownCode as code } from './escape';
import { formatOffset, msBetween } from './format';
import { sortedKeys } from './render-json';

export const FAILOVER_REPORT_FORMATS = ['md', 'json'] as const;
export type FailoverReportFormat = (typeof FAILOVER_REPORT_FORMATS)[number];

export function renderFailoverReport(result: FailoverResult, format: FailoverReportFormat): string {
  return format === 'json' ? renderFailoverJson(result) : renderFailoverMarkdown(result);
}

/**
 * Free text (reasons, summaries, provider errors) as Markdown that is also safe on a terminal: the report is often
 * printed there, and a reason may hold terminal escapes.
 */
const md = escapeMarkdown;

/** Free text's line breaks as spaces, as `md` shows them (the summary escapes what it quotes itself). */
const oneLine = (text: string): string => text.replace(/\r?\n|\r/g, ' ');

export function renderFailoverMarkdown(result: FailoverResult): string {
  const at = (iso: string | undefined) =>
    iso === undefined ? '' : `${iso} (${formatOffset(msBetween(result.startedAt, iso))})`;
  const lines = [
    `# ${result.status.toUpperCase()}: failover ${md(result.workflowId)} of runbook ${md(result.runbookId)}`,
    '',
    ...renderSummary({ ...result, reason: oneLine(result.reason), initiator: oneLine(result.initiator) })
      .split('\n')
      .flatMap((line) => [md(line), '']),
    `- Run: ${code(result.workflowId)} run ${code(result.runId)}`,
    `- Started: ${result.startedAt} by ${md(result.initiator)}; reason: ${md(result.reason)}`,
    `- Ended: ${result.endedAt === undefined ? 'still running' : `${at(result.endedAt)}, took ${formatMs(msBetween(result.startedAt, result.endedAt))}`}`,
    ...authorizationLines(result.authorization).map((line) => `- ${md(line)}`),
    '',
    '## Steps',
    '',
    '| step | kind | status | started | ended | took | provider | attempts | what happened |',
    '|---|---|---|---|---|---|---|---|---|',
    ...result.timeline
      .map((entry) =>
        [
          `${entry.group ? `${md(entry.group)}/` : ''}${md(entry.stepId)}`,
          md(entry.kind),
          entry.status,
          at(entry.startedAt),
          at(entry.endedAt),
          entry.durationMs === undefined ? '' : formatMs(entry.durationMs),
          entry.providerMs > 0 ? formatMs(entry.providerMs) : '',
          String(entry.attempts),
          md(entry.error ? `${entry.error.type}: ${entry.error.message}` : (entry.summary ?? '')),
        ].join(' | '),
      )
      .map((row) => `| ${row} |`),
  ];
  const failedChecks = result.timeline.flatMap((entry) =>
    (entry.checks ?? []).filter((check) => !check.ok).map((check) => ({ step: entry.stepId, check })),
  );
  if (failedChecks.length > 0) {
    lines.push('', '## Checks that failed', '');
    for (const { step, check } of failedChecks)
      lines.push(`- ${md(step)}: ${md(check.check)}: ${md(check.message)}`);
  }
  lines.push(
    '',
    '## Operator actions',
    '',
    '| at | operator | action | step | reason |',
    '|---|---|---|---|---|',
  );
  for (const action of result.operatorActions)
    lines.push(
      `| ${at(action.at)} | ${md(action.operator)}${action.breakGlass ? ' (BREAK-GLASS)' : ''} | ${action.action} | ${md(action.stepId ?? '')} | ${md(action.reason)} |`,
    );
  if (result.rollback !== undefined && result.rollback.length > 0) {
    lines.push('', '## Rollback', '', '| step | status | detail |', '|---|---|---|');
    for (const entry of result.rollback)
      lines.push(`| ${md(entry.stepId)} | ${entry.status} | ${md(entry.detail)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

export function renderFailoverJson(result: FailoverResult): string {
  return `${JSON.stringify(sortedKeys(result), null, 2)}\n`;
}
