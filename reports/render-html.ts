/**
 * The drill report as one self-contained HTML document: inline CSS and SVG, no script, no external request (a
 * Content-Security-Policy forbids them), every string from the result escaped.
 */
import { formatMs } from '../runbooks/duration';
import { OUTCOME_HEADLINE, untestedSentence, drillOutcome, type DrillResult } from '../workflows/drill-types';
import { escapeMarkup as esc } from './escape';
import { formatMeasured, formatOffset, formatShare, formatSignedMs } from './format';
import { HTML_STYLE } from './html-style';
import { objectiveRows, verdictLabel, type ObjectiveRow } from './objective-rows';
import { restoredDuringSteps, stepRows, type StepRow } from './step-rows';
import { canaryChart } from './svg/canary-chart';
import { ganttChart } from './svg/gantt-chart';
import { trendChart, trendMethodNote } from './svg/trend-chart';
import { buildAuditMapping, type AuditContext } from './audit-mapping';
import { auditHtml } from './render-audit';
import { injectionTiming } from './injection-timing';
import { breakGlassUsesOf } from './break-glass-uses';

const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export function badge(passed: boolean | null, label: string = verdictLabel(passed)): string {
  const tone = passed === null ? 'na' : passed ? 'pass' : 'fail';
  return `<span class="badge ${tone}" data-testid="badge">${label}</span>`;
}

/**
 * A drill's (or a service's) verdict badge: neutral `CALLED OFF` or `REFUSED` when it tested nothing (an operator
 * stopped it before its injection, or another run held its lock at its start).
 */
export function outcomeBadge(result: Pick<DrillResult, 'passed' | 'calledOff' | 'refusal'>): string {
  const outcome = drillOutcome(result);
  return outcome === 'called-off' || outcome === 'refused'
    ? badge(null, OUTCOME_HEADLINE[outcome])
    : badge(result.passed);
}

export function objectiveCard(row: ObjectiveRow): string {
  const id = row.objective.toLowerCase();
  const marginTone = row.marginMs === null ? '' : row.marginMs < 0 ? ' negative' : ' positive';
  return `<div class="objective${row.passed === false ? ' fail' : ''}" id="${id}" data-testid="${id}" data-passed="${String(
    row.passed,
  )}">
<div>${row.objective} ${badge(row.passed)}</div>
<div class="value" data-testid="${id}-measured">${esc(formatMeasured(row.measuredMs))}</div>
<div>objective <span data-testid="${id}-objective">${esc(formatMs(row.targetMs))}</span></div>
<div class="margin${marginTone}" data-testid="${id}-margin">${
    row.marginMs === null ? 'no margin: not measured' : `margin ${esc(formatSignedMs(row.marginMs))}`
  }</div>
</div>`;
}

/** The start of a self-contained report page: no script, no request, inline style only. */
export function documentHead(title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${HTML_STYLE}</style>
</head>
<body>`;
}

export function definitionList(entries: Array<[string, string]>): string {
  return `<dl>${entries.map(([term, value]) => `<dt>${esc(term)}</dt><dd>${value}</dd>`).join('')}</dl>`;
}

function restoredNoteHtml(result: DrillResult): string {
  const note = restoredDuringSteps(result);
  return note === null ? '' : `<p class="muted" data-testid="restored-note">${esc(note)}</p>`;
}

function injectionRows(result: DrillResult): Array<[string, string]> {
  const time = (iso: string): string => `<time>${esc(iso)}</time>`;
  const restored: [string, string] = [
    'Restored at',
    result.restoredAt === null ? 'not restored' : time(result.restoredAt),
  ];
  const timing = injectionTiming(result);
  if (timing === null)
    return [['Action', `<code>${esc(result.injection.action)}</code>: nothing was injected`], restored];
  return [
    ['Action', `<code>${esc(result.injection.action)}</code>`],
    ['Began at', time(timing.began)],
    ...(timing.inEffect
      ? [
          ['In effect at', `${time(timing.inEffect.at)} (took ${esc(formatMs(timing.inEffect.tookMs))})`] as [
            string,
            string,
          ],
        ]
      : []),
    ['What happened', esc(result.injection.summary)],
    ...(timing.writesFailingSince
      ? [
          [
            "Canary's writes failed from",
            `${time(timing.writesFailingSince)}${timing.writesFailedFirst ? ` <strong>${esc(timing.writesFailedFirst)}</strong>` : ''}`,
          ] as [string, string],
        ]
      : []),
    restored,
    ['Measured', esc(timing.method)],
  ];
}

/** The trend's note on drills measured otherwise, if any. */
function trendNote(result: DrillResult, history: readonly DrillResult[]): string {
  const note = trendMethodNote(result, history);
  return note === '' ? '' : `<p class="muted" data-testid="trend-method-note">${esc(note)}</p>`;
}

export function dataLoss(result: DrillResult): string {
  const loss = result.dataLoss;
  if (!loss) return '<p class="muted">Data loss was not measured.</p>';
  const canary = result.canary;
  return definitionList([
    [
      'Lost rows',
      `<strong data-testid="lost-rows">${loss.lostRows}</strong>${
        canary ? ` of ${canary.acknowledged} acknowledged by the old primary` : ''
      }`,
    ],
    [
      'Newest row present',
      loss.newestPresentAt === null
        ? 'none'
        : `#${loss.newestPresentSeq} written at <time>${esc(loss.newestPresentAt)}</time>`,
    ],
    [
      'Last row acknowledged',
      canary?.lastAcknowledgedAt
        ? `#${canary.lastAcknowledgedSeq} at <time>${esc(canary.lastAcknowledgedAt)}</time>`
        : 'none',
    ],
    ['Rows present', String(loss.presentRows)],
  ]);
}

export function stepTable(rows: StepRow[]): string {
  const body = rows
    .map(
      (row) => `<tr data-step-id="${esc(row.stepId)}">
<td class="step"><code>${esc(row.stepId)}</code>${row.critical ? '&nbsp;●' : ''}${row.title ? `<br><span class="muted">${esc(row.title)}</span>` : ''}</td>
<td>${esc(row.kind)}</td>
<td class="num">${esc(formatOffset(row.startOffsetMs))}</td>
<td class="num">${row.durationMs === null ? 'running' : esc(formatMs(row.durationMs))}</td>
<td class="num">${esc(formatShare(row.shareOfRto))}</td>
<td class="num">${row.attempts}</td>
<td class="outcome">${esc(row.outcome)}</td>
</tr>`,
    )
    .join('\n');
  return `<table id="steps" data-testid="steps">
<thead><tr><th>step</th><th>kind</th><th class="num">start</th><th class="num">duration</th><th class="num">share of RTO</th><th class="num">attempts</th><th>outcome</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

/**
 * `history`: earlier results; those of the same runbook make the trend chart. `audit`: the failover's recorded
 * operator actions and a signature check, for the contingency-test section.
 */
export function renderHtml(
  result: DrillResult,
  history: readonly DrillResult[] = [],
  audit: AuditContext = {},
): string {
  const outcome = drillOutcome(result);
  const verdict = OUTCOME_HEADLINE[outcome];
  const rows = stepRows(result);
  const title = `${verdict}: drill ${result.drillId} of ${result.runbookId}`;
  const environment: Array<[string, string]> = [
    ['Runbook', `<code>${esc(result.runbookId)}</code>`],
    ['Runbook sha256', `<code data-testid="runbook-hash">${esc(result.runbookHash)}</code>`],
    ['Temporal namespace', esc(result.environment.temporalNamespace)],
    ['Task queue', esc(result.environment.taskQueue)],
    ['Failover workflow', `<code>${esc(result.failover.workflowId)}</code> (${esc(result.failover.status)})`],
  ];
  if (result.environment.workerBuild) environment.push(['Worker build', esc(result.environment.workerBuild)]);
  return `${documentHead(title)}
<header id="headline" data-testid="headline" data-passed="${String(result.passed)}" data-outcome="${outcome}">
<h1>${outcomeBadge(result)} ${esc(verdict)}: drill of runbook <code>${esc(result.runbookId)}</code></h1>
<div class="meta">${esc(result.drillId)} · ${esc(result.reason)} · by ${esc(result.initiator)} · <time>${esc(
    result.startedAt,
  )}</time></div>
${untestedHtml(result)}
${drillErrorHtml(result)}
<div class="objectives">
${objectiveRows(result).map(objectiveCard).join('\n')}
</div>
</header>
<main>
<section>
<h2>Failover timeline</h2>
<p class="muted">Steps relative to the injected failure (${esc(result.injection.action)} at <time>${esc(
    result.injection.injectedAt,
  )}</time>); the shaded window is the RTO objective, blue bars the critical path.</p>
${ganttChart(result, rows)}
${restoredNoteHtml(result)}
</section>
<section>
<h2>Canary writes around the failure</h2>
<p class="muted">Rows per second the old primary acknowledged; the shaded red region holds acknowledged rows the promoted database lost.</p>
${canaryChart(result)}
</section>
<section id="data-loss" data-testid="data-loss">
<h2>Data loss</h2>
${dataLoss(result)}
</section>
<section id="injection" data-testid="injection">
<h2>Injected failure</h2>
${definitionList(injectionRows(result))}
</section>
<section>
<h2>Steps</h2>
${stepTable(rows)}
</section>
<section>
<h2>Trend of drills of this runbook</h2>
${trendChart(result, history)}
${trendNote(result, history)}
</section>
${auditHtml(buildAuditMapping(result, audit))}
<section id="who" data-testid="who">
<h2>Who, why, when</h2>
${definitionList([
  ['Initiator', esc(result.initiator)],
  ['Reason', `<span data-testid="reason">${esc(result.reason)}</span>`],
  ['Started', `<time>${esc(result.startedAt)}</time>`],
  ['Ended', `<time>${esc(result.endedAt)}</time>`],
  ...(result.authorization
    ? [
        [
          'Access policy',
          `sha256 <code>${esc(result.authorization.policySha256)}</code>; every operator action is signed (re-check with <code>drctl verify-run --file</code>)`,
        ] as [string, string],
      ]
    : []),
  ...breakGlassUsesOf(result).map((use): [string, string] => [
    'BREAK-GLASS',
    `<strong data-testid="break-glass">${esc(use.action)}${use.stepId ? ` <code>${esc(use.stepId)}</code>` : ''} by <code>${esc(use.keyId)}</code> (held by ${esc(use.holder)}) at <time>${esc(use.at)}</time>: ${esc(use.reason)}</strong>`,
  ]),
])}
</section>
<section id="environment" data-testid="environment">
<h2>Runbook and environment</h2>
${definitionList(environment)}
</section>
</main>
</body>
</html>
`;
}

/** Why the drill tested nothing (called off, refused), in the neutral style; nothing for one that ran its test. */
export function untestedHtml(result: Pick<DrillResult, 'calledOff' | 'refusal'>): string {
  const untested = untestedSentence(result);
  return untested === undefined ? '' : `<p class="called-off" data-testid="called-off">${esc(untested)}</p>`;
}

/** The drill's error: red, unless it tested nothing on purpose (called off, refused: then it only says how it stopped). */
export function drillErrorHtml(result: Pick<DrillResult, 'error' | 'calledOff' | 'refusal'>): string {
  if (result.error === undefined) return '';
  return untestedSentence(result) === undefined
    ? `<p class="error" data-testid="drill-error">Drill error: ${esc(result.error)}</p>`
    : `<p class="called-off" data-testid="drill-error">Drill stopped: ${esc(result.error)}</p>`;
}
