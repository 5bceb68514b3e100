/**
 * The report of an evacuation, from its recorded result: Markdown for a ticket (waves, each service's outcome and
 * time, who did what, signed), JSON (the result itself), or JUnit XML with one testcase per service so a CI gate
 * fails on a service that did not succeed.
 */
import type { AbortForward, EvacuationProgress, ServiceProgress } from '../evacuations/evacuation-types';
import { formatMs } from '../runbooks/duration';
import { escapeMarkdown as md, escapeMarkup as esc, markdownCode } from './escape';
import { msBetween } from './format';

export const EVACUATION_REPORT_FORMATS = ['md', 'json', 'junit'] as const;
export type EvacuationReportFormat = (typeof EVACUATION_REPORT_FORMATS)[number];

function took(service: ServiceProgress): number | undefined {
  return service.startedAt && service.endedAt ? msBetween(service.startedAt, service.endedAt) : undefined;
}

/** The service's failover: its workflow id (its runbook's lock, shared by every run of it) and this run's id. */
function failoverRun(service: ServiceProgress): string {
  if (service.workflowId === undefined) return '';
  const run = markdownCode(service.workflowId);
  return service.runId === undefined ? run : `${run} run ${markdownCode(service.runId)}`;
}

/**
 * `refusal`: why an evacuation that could not take every runbook's lock was refused (it started nothing); its
 * outcome is then "refused", as `drctl status` and `drctl runs` say, not "failed".
 */
export function renderEvacuationMarkdown(result: EvacuationProgress, refusal?: string): string {
  const total = result.endedAt ? formatMs(msBetween(result.startedAt, result.endedAt)) : 'still running';
  const lines = [
    `# Evacuation ${md(result.evacuationId)}: ${md(result.title)}`,
    '',
    `- Run: ${markdownCode(result.workflowId)}`,
    `- Outcome: **${refusal === undefined ? result.status : 'refused'}** in ${total} (started ${result.startedAt}${result.endedAt ? `, ended ${result.endedAt}` : ''})`,
    ...(refusal === undefined ? [] : [`- Refused: ${md(refusal)}`]),
    `- Started by ${md(result.initiator)}: ${md(result.reason)}`,
    ...(result.authorization?.forcedPastPlan === undefined
      ? []
      : [`- Started although its plan was NOT ready: ${md(result.authorization.forcedPastPlan)}`]),
    '',
    '## Services',
    '',
    '| Service | Wave | Outcome | Steps | Time | Failover run | Detail |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...result.services.map((s) => {
      const ms = took(s);
      return `| ${md(s.runbookId)} | ${md(s.wave)} | ${s.state} | ${s.stepsDone}/${s.totalSteps} | ${ms === undefined ? '' : formatMs(ms)} | ${failoverRun(s)} | ${md(s.detail ?? '')} |`;
    }),
    '',
    '## Waves',
    '',
    '| Wave | Concurrency | Approved by |',
    '| --- | --- | --- |',
    ...result.waves.map((w) => `| ${md(w.id)} | ${w.concurrency} | ${md(w.approvedBy ?? '')} |`),
    '',
    '## Operator actions',
    '',
    '| At | Action | Operator | Wave | Reason | Signed |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.operatorActions.map(
      (a) =>
        `| ${a.at} | ${a.action}${a.breakGlass ? ' (BREAK-GLASS)' : ''} | ${md(a.operator)} | ${md(a.stepId ?? '')} | ${md(a.reason)} | ${a.signed ? 'yes' : 'no'} |`,
    ),
    ...abortForwardLines(result),
    '',
    'Each service is a failover run of its own with its full timeline: `drctl status <failover run> --run-id <run id>`.',
  ];
  return `${lines.join('\n')}\n`;
}

const FORWARD_OUTCOME: Record<AbortForward['outcome'], string> = {
  accepted: 'accepted',
  refused: 'refused by the failover, which went on',
  ended: 'the failover had ended',
  aborting: 'the failover was already being aborted',
  'not-sent': 'not confirmed delivered (no answer through its retries)',
};

/** Where an operator's abort was forwarded, and what each failover answered; nothing without an abort. */
function abortForwardLines(result: EvacuationProgress): string[] {
  const forwards = result.abortForwards ?? [];
  if (forwards.length === 0) return [];
  return [
    '',
    '## The abort, forwarded to the failovers',
    '',
    '| Service | Failover | Answer | Detail |',
    '| --- | --- | --- | --- |',
    ...forwards.map(
      (f) =>
        `| ${md(f.runbookId)} | ${markdownCode(f.workflowId)} | ${FORWARD_OUTCOME[f.outcome]} | ${md(f.detail ?? '')} |`,
    ),
  ];
}

export function renderEvacuationJunit(result: EvacuationProgress): string {
  const failures = result.services.filter((s) => s.state !== 'succeeded').length;
  const cases = result.services.map((s) => {
    const time = ((took(s) ?? 0) / 1000).toFixed(3);
    const open = `    <testcase classname="evacuation.${esc(result.evacuationId)}.${esc(s.wave)}" name="${esc(s.runbookId)}" time="${time}">`;
    if (s.state === 'succeeded') return `${open}</testcase>`;
    return `${open}\n      <failure message="${esc(`${s.state}${s.detail ? `: ${s.detail}` : ''}`)}" type="${esc(s.state)}"/>\n    </testcase>`;
  });
  const total = result.endedAt ? (msBetween(result.startedAt, result.endedAt) / 1000).toFixed(3) : '0.000';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="evacuation ${esc(result.evacuationId)}" tests="${result.services.length}" failures="${failures}" time="${total}">`,
    `  <testsuite name="${esc(result.workflowId)}" tests="${result.services.length}" failures="${failures}" errors="0" time="${total}" timestamp="${esc(result.startedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** An evacuation's record as JSON shows it: a refused one is marked `outcome: refused`, with why. */
export function evacuationRecord(result: EvacuationProgress, refusal?: string): unknown {
  return refusal === undefined ? result : { ...result, outcome: 'refused', message: refusal };
}

export function renderEvacuationReport(
  result: EvacuationProgress,
  format: EvacuationReportFormat,
  refusal?: string,
): string {
  if (format === 'json') return `${JSON.stringify(evacuationRecord(result, refusal), null, 2)}\n`;
  if (format === 'junit') return renderEvacuationJunit(result);
  return renderEvacuationMarkdown(result, refusal);
}
