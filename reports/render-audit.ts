/** The contingency-plan test section of the drill report, in Markdown and in HTML. */
import { formatMs } from '../runbooks/duration';
import { markdownCode as code, escapeMarkdown as md, escapeMarkup as esc } from './escape';
import { formatMeasured } from './format';
import { OUTCOME_HEADLINE } from '../workflows/drill-types';
import type { AuditMapping } from './audit-mapping';

const TITLE = 'Contingency plan test';

function verdictText(
  verdict: AuditMapping['results'][number]['verdict'],
  outcome: AuditMapping['outcome'],
): string {
  if (verdict === 'met') return 'PASS (met)';
  if (verdict === 'missed') return 'FAIL (missed)';
  if (verdict === 'not tested') return `NOT TESTED (${outcome === 'refused' ? 'refused' : 'called off'})`;
  return verdict === 'not applicable' ? 'N/A (not measured)' : 'FAIL (not measured)';
}

export function auditMarkdown(audit: AuditMapping): string[] {
  const lines = [
    `## ${TITLE} (HIPAA ${audit.regulation})`,
    '',
    '### Method',
    '',
    `- Type: disaster-recovery drill of runbook ${code(audit.method.runbookId)} (sha256 ${code(audit.method.runbookSha256)})`,
    audit.method.injectedAt === null
      ? `- Failure injected: none (the drill stopped before injecting ${code(audit.method.injectedFailure)})`
      : `- Failure injected: ${code(audit.method.injectedFailure)} at ${md(audit.method.injectedAt)}`,
    `- How: ${md(audit.method.how)}`,
    `- Measurement: ${md(audit.method.measurement)}`,
    '',
    '### Participants',
    '',
    `Source: ${audit.participantsSource}.`,
    '',
    '| operator | actions | verified | evidence |',
    '| --- | --- | --- | --- |',
    ...audit.participants.map(
      (participant) =>
        `| ${md(participant.operator)} | ${md(participant.actions.join(', '))} | ${participant.verified ? '**verified**' : 'not verified'} | ${md(participant.evidence)} |`,
    ),
    '',
    '### Results against objectives',
    '',
    '| objective | target | measured | result |',
    '| --- | --- | --- | --- |',
    ...audit.results.map(
      (row) =>
        `| ${row.objective} | ${formatMs(row.objectiveMs)} | ${formatMeasured(row.measuredMs)} | **${verdictText(row.verdict, audit.outcome)}** |`,
    ),
    '',
    `Overall: **${OUTCOME_HEADLINE[audit.outcome]}**`,
    '',
    '### Follow-up actions',
    '',
  ];
  if (audit.followUps.length === 0) {
    lines.push('None: every objective was met and every step succeeded.');
  } else {
    for (const followUp of audit.followUps) {
      lines.push(`- [ ] **${followUp.id}** (${md(followUp.source)}): ${md(followUp.action)}`);
    }
  }
  return lines;
}

export function auditHtml(audit: AuditMapping): string {
  const participants = audit.participants
    .map(
      (
        participant,
      ) => `<tr data-operator="${esc(participant.operator)}" data-verified="${String(participant.verified)}">
<td>${esc(participant.operator)}</td><td>${esc(participant.actions.join(', '))}</td>
<td>${participant.verified ? '<span class="badge pass">verified</span>' : '<span class="badge na">not verified</span>'}</td>
<td>${esc(participant.evidence)}</td></tr>`,
    )
    .join('\n');
  const results = audit.results
    .map(
      (row) => `<tr data-objective="${row.objective}" data-verdict="${row.verdict}">
<td>${row.objective}</td><td class="num">${esc(formatMs(row.objectiveMs))}</td><td class="num">${esc(
        formatMeasured(row.measuredMs),
      )}</td><td><span class="badge ${row.verdict === 'met' ? 'pass' : row.verdict === 'not applicable' || row.verdict === 'not tested' ? 'na' : 'fail'}">${esc(verdictText(row.verdict, audit.outcome))}</span></td></tr>`,
    )
    .join('\n');
  const followUps =
    audit.followUps.length === 0
      ? '<p data-testid="no-follow-ups">None: every objective was met and every step succeeded.</p>'
      : `<ol data-testid="follow-ups">${audit.followUps
          .map(
            (followUp) =>
              `<li data-follow-up="${esc(followUp.id)}"><strong>${esc(followUp.id)}</strong> (${esc(followUp.source)}): ${esc(followUp.action)}</li>`,
          )
          .join('\n')}</ol>`;
  return `<section id="contingency-test" data-testid="contingency-test">
<h2>${TITLE} (HIPAA ${esc(audit.regulation)})</h2>
<h3>Method</h3>
<dl><dt>Type</dt><dd>disaster-recovery drill of runbook <code>${esc(audit.method.runbookId)}</code> (sha256 <code>${esc(
    audit.method.runbookSha256,
  )}</code>)</dd>
<dt>Failure injected</dt><dd>${
    audit.method.injectedAt === null
      ? `none (the drill stopped before injecting <code>${esc(audit.method.injectedFailure)}</code>)`
      : `<code>${esc(audit.method.injectedFailure)}</code> at <time>${esc(audit.method.injectedAt)}</time>`
  }</dd>
<dt>How</dt><dd>${esc(audit.method.how)}</dd>
<dt>Measurement</dt><dd>${esc(audit.method.measurement)}</dd></dl>
<h3>Participants</h3>
<p class="muted">Source: ${esc(audit.participantsSource)}.</p>
<table data-testid="participants"><thead><tr><th>operator</th><th>actions</th><th>verified</th><th>evidence</th></tr></thead>
<tbody>
${participants}
</tbody></table>
<h3>Results against objectives</h3>
<table data-testid="audit-results"><thead><tr><th>objective</th><th class="num">target</th><th class="num">measured</th><th>result</th></tr></thead>
<tbody>
${results}
</tbody></table>
<p>Overall: <strong>${OUTCOME_HEADLINE[audit.outcome]}</strong></p>
<h3>Follow-up actions</h3>
${followUps}
</section>`;
}
