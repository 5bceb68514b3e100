/**
 * The report of a drill of an evacuation, in every drill report format. The whole-evacuation part (verdict, the
 * services against their own objectives, the waves, the total time) is composed here; each service's own part is
 * the single-runbook drill report's (its objectives, data loss, failover steps, contingency-test section), rendered
 * by the same modules.
 */
import { formatMs } from '../runbooks/duration';
import { OUTCOME_HEADLINE, drillOutcome, untestedSentence } from '../workflows/drill-types';
import type { EvacuationDrillResult, ServiceDrillResult } from '../workflows/evacuation-drill-types';
import { buildAuditMapping } from './audit-mapping';
import { markdownCode as code, escapeMarkdown as md, escapeMarkup as esc } from './escape';
import { formatOffset } from './format';
import { objectiveRows, verdictLabel, type ObjectiveRow } from './objective-rows';
import { auditHtml } from './render-audit';
import {
  badge,
  drillErrorHtml,
  outcomeBadge,
  documentHead,
  dataLoss,
  definitionList,
  objectiveCard,
  stepTable,
} from './render-html';
import { inOrder, renderJson, sortedKeys } from './render-json';
import { injectionTiming } from './injection-timing';
import { drillTestsuite, seconds } from './render-junit';
import { renderMarkdown } from './render-markdown';
import { stepRows } from './step-rows';
import { ganttChart } from './svg/gantt-chart';

/** One service's figures for the whole-evacuation table: a value not measured is N/A, never a pass. */
export interface ServiceRow {
  runbookId: string;
  wave: string;
  state: string;
  rto: ObjectiveRow;
  rpo: ObjectiveRow;
  passed: boolean;
  /** Why it failed, or why an objective was not measured. */
  note: string;
}

export function serviceRows(result: EvacuationDrillResult): ServiceRow[] {
  return result.services.map((service) => {
    const [rto, rpo] = objectiveRows(service) as [ObjectiveRow, ObjectiveRow];
    const notMeasured = service.verdicts.find((verdict) => verdict.notMeasured)?.notMeasured;
    return {
      runbookId: service.runbookId,
      wave: service.wave,
      state: service.state,
      rto,
      rpo,
      passed: service.passed,
      note: service.error ?? notMeasured ?? '',
    };
  });
}

/** The measured value against the objective: "1.2s / 15m", or "N/A / 5m" when not measured. */
export function figure(row: ObjectiveRow): string {
  const measured = row.measuredMs === null || Number.isNaN(row.measuredMs) ? 'N/A' : formatMs(row.measuredMs);
  return `${measured} / ${formatMs(row.targetMs)}`;
}

/** PASS or FAIL for a measured objective; N/A for one that was not measured, whatever the reason. */
export function objectiveLabel(row: ObjectiveRow): 'PASS' | 'FAIL' | 'N/A' {
  return row.measuredMs === null || Number.isNaN(row.measuredMs) ? 'N/A' : verdictLabel(row.passed);
}

function offset(ms: number | null): string {
  return ms === null ? '—' : formatOffset(ms);
}

function duration(ms: number | null): string {
  return ms === null ? '—' : formatMs(ms);
}

function headline(result: EvacuationDrillResult): string[] {
  const rows = serviceRows(result);
  const passed = rows.filter((row) => row.passed).length;
  const na = rows.flatMap((row) =>
    [row.rto, row.rpo]
      .filter((objective) => objectiveLabel(objective) === 'N/A')
      .map((objective) => `${row.runbookId} ${objective.objective}`),
  );
  const untested = untestedSentence(result);
  if (untested !== undefined) return [untested];
  return [
    `${result.passed ? 'PASS' : 'FAIL'}: ${passed} of ${rows.length} services passed` +
      (na.length > 0 ? `; not measured (N/A), so not shown to be met: ${na.join(', ')}` : ''),
    result.restoredAllMs === null
      ? 'Not every service was restored.'
      : `Every service restored ${formatMs(result.restoredAllMs)} after the first injection.`,
  ];
}

/**
 * How each injected service's RTO and RPO were measured: one line when all were measured alike, else one per way
 * (a service without a write probe is restored at its failover's end, not at a client's write).
 */
function measuredLine(result: EvacuationDrillResult): string[] {
  const servicesByMethod = new Map<string, string[]>();
  for (const service of result.services) {
    const method = injectionTiming(service)?.method;
    if (method !== undefined)
      servicesByMethod.set(method, [...(servicesByMethod.get(method) ?? []), service.runbookId]);
  }
  const methods = [...servicesByMethod];
  if (methods.length === 1) return [`- Measured, for each service: ${md(methods[0]?.[0] ?? '')}`];
  return methods.map(([method, services]) => `- Measured, for ${md(services.join(', '))}: ${md(method)}`);
}

export function renderEvacuationDrillMarkdown(result: EvacuationDrillResult): string {
  const lines = [
    `# ${OUTCOME_HEADLINE[drillOutcome(result)]}: drill ${md(result.drillId)} of evacuation ${md(result.evacuationId)}`,
    '',
    ...headline(result).map((line) => `${md(line)}  `),
  ];
  const untested = untestedSentence(result) !== undefined;
  if (result.error) lines.push('', `> Drill ${untested ? 'stopped' : 'error'}: ${md(result.error)}`);
  lines.push(
    '',
    `- Evacuation: ${md(result.title)} (sha256 ${code(result.evacuationHash)})`,
    `- Failure injected: ${code(result.action)} into every drilled database, first at ${md(result.injectedAt ?? 'never')}`,
    ...measuredLine(result),
    `- Evacuation run ${code(result.evacuation.workflowId)}: ${md(result.evacuation.status)}${result.evacuationMs === null ? '' : ` in ${formatMs(result.evacuationMs)}`}`,
    `- Started by ${md(result.initiator)}: ${md(result.reason)} (${md(result.startedAt)} – ${md(result.endedAt)})`,
    '',
    '## Services',
    '',
    '| service | wave | evacuation | RTO (measured / objective) | RTO | RPO (measured / objective) | RPO | verdict | note |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...serviceRows(result).map(
      (row) =>
        `| ${md(row.runbookId)} | ${md(row.wave)} | ${md(row.state)} | ${figure(row.rto)} | **${objectiveLabel(row.rto)}** | ${figure(row.rpo)} | **${objectiveLabel(row.rpo)}** | **${untested ? OUTCOME_HEADLINE[drillOutcome(result)] : row.passed ? 'PASS' : 'FAIL'}** | ${md(row.note)} |`,
    ),
    '',
    '## Waves',
    '',
    'Times from the first injection.',
    '',
    '| wave | services | started | ended | took | approved by |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.waves.map(
      (wave) =>
        `| ${md(wave.id)} | ${md(wave.services.join(', '))} | ${offset(wave.startMs)} | ${offset(wave.endMs)} | ${duration(wave.durationMs)} | ${md(wave.approvedBy ?? '')} |`,
    ),
    '',
    '## Operator actions',
    '',
    '| at | action | operator | wave | reason | signed |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.operatorActions.map(
      (action) =>
        `| ${md(action.at)} | ${action.action}${action.breakGlass ? ' (BREAK-GLASS)' : ''} | ${md(action.operator)} | ${md(action.stepId ?? '')} | ${md(action.reason)} | ${action.signed ? 'yes' : 'no'} |`,
    ),
  );
  for (const service of result.services) lines.push('', ...serviceMarkdown(service));
  return `${lines.join('\n')}\n`;
}

/** A service's single-drill report, one heading level down, under the evacuation's report. */
function serviceMarkdown(service: ServiceDrillResult): string[] {
  const own = renderMarkdown(service, { operatorActions: service.failover.operatorActions ?? [] })
    .trimEnd()
    .split('\n')
    .map((line) => (line.startsWith('#') ? `#${line}` : line));
  own[0] = `## Service ${md(service.runbookId)} (wave ${md(service.wave)}): ${OUTCOME_HEADLINE[drillOutcome(service)]}`;
  return own;
}

// The result's own fields in the order a reader wants them; `satisfies` keeps the list complete.
const TOP_LEVEL_ORDER = [
  'drillId',
  'evacuationId',
  'evacuationHash',
  'title',
  'passed',
  'calledOff',
  'refusal',
  'restoredAllMs',
  'evacuationMs',
  'reason',
  'initiator',
  'startedAt',
  'endedAt',
  'action',
  'injectedAt',
  'evacuation',
  'waves',
  'services',
  'authorization',
  'operatorActions',
  'environment',
  'error',
] as const satisfies readonly (keyof EvacuationDrillResult)[];

type MissingKey = Exclude<keyof EvacuationDrillResult, (typeof TOP_LEVEL_ORDER)[number]>;
const everyKeyListed: MissingKey extends never ? true : MissingKey = true;
void everyKeyListed;

/** The result in a stable key order; each service as its single-drill JSON report (with its contingency test). */
export function renderEvacuationDrillJson(result: EvacuationDrillResult): string {
  const ordered = inOrder(result, TOP_LEVEL_ORDER, (key, field) =>
    key === 'services'
      ? result.services.map(
          (service) =>
            JSON.parse(
              renderJson(service, { operatorActions: service.failover.operatorActions ?? [] }),
            ) as unknown,
        )
      : sortedKeys(field),
  );
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * JUnit XML: one testsuite per service with a testcase per objective (the single drill's), so a CI gate fails on
 * any service that missed or could not measure an objective, plus the drill's own suite: every service restored.
 */
export function renderEvacuationDrillJunit(result: EvacuationDrillResult): string {
  const suites = result.services.map((service) =>
    drillTestsuite(service, `drill ${result.drillId}: ${service.wave} / ${service.runbookId}`),
  );
  const rows = result.services.flatMap((service) => objectiveRows(service));
  const restored = result.restoredAllMs !== null && result.error === undefined;
  const untested = untestedSentence(result);
  const whole = `  <testsuite name="${esc(`drill ${result.drillId}: evacuation ${result.evacuationId}`)}" tests="1" failures="${restored || untested !== undefined ? 0 : 1}" errors="0" skipped="${untested === undefined ? 0 : 1}" timestamp="${esc(result.startedAt)}" time="${seconds(result.evacuationMs ?? 0)}">
    <testcase classname="drill.evacuation.${esc(result.evacuationId)}" name="every service restored" time="${seconds(result.restoredAllMs ?? 0)}">${
      restored
        ? ''
        : untested !== undefined
          ? `
      <skipped message="${esc(untested)}"/>
    `
          : `
      <failure type="NotRestored" message="${esc(result.error ?? 'not every service was restored')}"/>
    `
    }</testcase>
  </testsuite>`;
  // Called off or refused, nothing was tested: every objective and the whole are skipped, none failed.
  const failures =
    untested !== undefined ? 0 : rows.filter((row) => row.passed === false).length + (restored ? 0 : 1);
  // An objective a service has no way to measure is skipped in its suite, not an error.
  const errors =
    untested !== undefined
      ? 0
      : rows.filter((row) => row.passed === null && row.notMeasurable === undefined).length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="drill of evacuation ${esc(result.evacuationId)}" tests="${rows.length + 1}" failures="${failures}" errors="${errors}" time="${seconds(
    Date.parse(result.endedAt) - Date.parse(result.startedAt),
  )}">
${whole}
${suites.join('\n')}
</testsuites>
`;
}

/** One self-contained HTML document: the whole evacuation, then each service as its single drill shows it. */
export function renderEvacuationDrillHtml(result: EvacuationDrillResult): string {
  const outcome = drillOutcome(result);
  const verdict = OUTCOME_HEADLINE[outcome];
  const title = `${verdict}: drill ${result.drillId} of evacuation ${result.evacuationId}`;
  const services = serviceRows(result)
    .map(
      (row) => `<tr data-service="${esc(row.runbookId)}" data-passed="${String(row.passed)}">
<td><code>${esc(row.runbookId)}</code></td><td>${esc(row.wave)}</td><td>${esc(row.state)}</td>
<td class="num" data-testid="rto">${esc(figure(row.rto))}</td><td>${badge(objectiveLabel(row.rto) === 'N/A' ? null : row.rto.passed)}</td>
<td class="num" data-testid="rpo">${esc(figure(row.rpo))}</td><td>${badge(objectiveLabel(row.rpo) === 'N/A' ? null : row.rpo.passed)}</td>
<td>${untestedSentence(result) !== undefined ? outcomeBadge(result) : badge(row.passed)}</td><td>${esc(row.note)}</td></tr>`,
    )
    .join('\n');
  const waves = result.waves
    .map(
      (
        wave,
      ) => `<tr data-wave="${esc(wave.id)}"><td>${esc(wave.id)}</td><td>${esc(wave.services.join(', '))}</td>
<td class="num">${esc(offset(wave.startMs))}</td><td class="num">${esc(offset(wave.endMs))}</td><td class="num">${esc(duration(wave.durationMs))}</td><td>${esc(wave.approvedBy ?? '')}</td></tr>`,
    )
    .join('\n');
  return `${documentHead(title)}
<header id="headline" data-testid="headline" data-passed="${String(result.passed)}" data-outcome="${outcome}">
<h1>${outcomeBadge(result)} ${esc(verdict)}: drill of evacuation <code>${esc(result.evacuationId)}</code></h1>
<div class="meta">${esc(result.drillId)} · ${esc(result.reason)} · by ${esc(result.initiator)} · <time>${esc(result.startedAt)}</time></div>
${headline(result)
  .map((line) => `<p>${esc(line)}</p>`)
  .join('\n')}
${drillErrorHtml(result)}
</header>
<main>
<section id="services" data-testid="services">
<h2>Services</h2>
<table><thead><tr><th>service</th><th>wave</th><th>evacuation</th><th class="num">RTO measured / objective</th><th>RTO</th><th class="num">RPO measured / objective</th><th>RPO</th><th>verdict</th><th>note</th></tr></thead>
<tbody>
${services}
</tbody></table>
</section>
<section id="waves" data-testid="waves">
<h2>Waves</h2>
<p class="muted">Times from the first injection (${esc(result.action)} at <time>${esc(result.injectedAt ?? 'never')}</time>).</p>
<table><thead><tr><th>wave</th><th>services</th><th class="num">started</th><th class="num">ended</th><th class="num">took</th><th>approved by</th></tr></thead>
<tbody>
${waves}
</tbody></table>
${definitionList([
  ['Evacuation run', `<code>${esc(result.evacuation.workflowId)}</code> (${esc(result.evacuation.status)})`],
  ['Evacuation time', esc(duration(result.evacuationMs))],
  ['Every service restored after', esc(duration(result.restoredAllMs))],
  ['Evacuation sha256', `<code>${esc(result.evacuationHash)}</code>`],
])}
</section>
${result.services.map(serviceHtml).join('\n')}
</main>
</body>
</html>
`;
}

function serviceHtml(service: ServiceDrillResult): string {
  const rows = stepRows(service);
  return `<section class="service" data-testid="service-${esc(service.runbookId)}">
<h2>${outcomeBadge(service)} Service <code>${esc(service.runbookId)}</code> (wave ${esc(service.wave)})</h2>
${service.error ? `<p class="${untestedSentence(service) !== undefined ? 'called-off' : 'error'}">${esc(service.error)}</p>` : ''}
<div class="objectives">
${objectiveRows(service).map(objectiveCard).join('\n')}
</div>
<h3>Failover timeline</h3>
${ganttChart(service, rows)}
${stepTable(rows)}
<h3>Data loss</h3>
${dataLoss(service)}
${auditHtml(buildAuditMapping(service, { operatorActions: service.failover.operatorActions ?? [] }))}
</section>`;
}

export function renderEvacuationDrillReport(
  result: EvacuationDrillResult,
  format: 'md' | 'html' | 'json' | 'junit',
): string {
  switch (format) {
    case 'md':
      return renderEvacuationDrillMarkdown(result);
    case 'html':
      return renderEvacuationDrillHtml(result);
    case 'json':
      return renderEvacuationDrillJson(result);
    case 'junit':
      return renderEvacuationDrillJunit(result);
  }
}
