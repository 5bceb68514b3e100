/** The drill report as GitHub-flavoured Markdown, for a change ticket or a pull request. */
import { formatMs } from '../runbooks/duration';
import { OUTCOME_HEADLINE, untestedSentence, drillOutcome, type DrillResult } from '../workflows/drill-types';
import { markdownCode as code, escapeMarkdown as md } from './escape';
import { formatMeasured, formatOffset, formatShare, formatSignedMs } from './format';
import { objectiveRows, verdictLabel } from './objective-rows';
import { restoredDuringSteps, stepRows } from './step-rows';
import { buildAuditMapping, type AuditContext } from './audit-mapping';
import { auditMarkdown } from './render-audit';
import { injectionTiming } from './injection-timing';
import { breakGlassUsesOf } from './break-glass-uses';

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}

function objectivesSection(result: DrillResult): string[] {
  const rows = objectiveRows(result).map((row) => [
    row.objective,
    formatMeasured(row.measuredMs),
    // The runbook's own spelling too when it reads differently ("90s" → "1m30s").
    formatMs(row.targetMs) === row.targetText
      ? formatMs(row.targetMs)
      : `${formatMs(row.targetMs)} (${md(row.targetText)})`,
    row.marginMs === null ? '—' : formatSignedMs(row.marginMs),
    `**${verdictLabel(row.passed)}**`,
  ]);
  return ['## Objectives', '', ...table(['objective', 'measured', 'target', 'margin', 'verdict'], rows)];
}

function dataLossSection(result: DrillResult): string[] {
  const lines = ['## Data loss', ''];
  const loss = result.dataLoss;
  if (!loss) return [...lines, 'Not measured.'];
  const canary = result.canary;
  lines.push(
    `- Lost rows: **${loss.lostRows}**${canary ? ` of ${canary.acknowledged} acknowledged by the old primary` : ''}`,
    `- Newest row present on the promoted database: ${
      loss.newestPresentAt === null
        ? 'none'
        : `#${loss.newestPresentSeq} written at ${md(loss.newestPresentAt)}`
    }`,
  );
  if (canary?.lastAcknowledgedAt) {
    lines.push(`- Last row acknowledged: #${canary.lastAcknowledgedSeq} at ${md(canary.lastAcknowledgedAt)}`);
  }
  lines.push(`- Rows present: ${loss.presentRows}; measured RPO ${formatMs(loss.rpoMs)}`);
  return lines;
}

function restoredNote(result: DrillResult): string[] {
  const note = restoredDuringSteps(result);
  return note === null ? [] : ['', md(note)];
}

function injectionSection(result: DrillResult): string[] {
  const restored = `- Service restored: ${result.restoredAt === null ? 'not restored' : md(result.restoredAt)}`;
  const timing = injectionTiming(result);
  if (timing === null) {
    return ['## Injected failure', '', `- Nothing was injected (${code(result.injection.action)})`, restored];
  }
  const inEffect = timing.inEffect
    ? `, in effect at ${md(timing.inEffect.at)} (took ${formatMs(timing.inEffect.tookMs)})`
    : '';
  return [
    '## Injected failure',
    '',
    `- Action: ${code(result.injection.action)}, began at ${md(timing.began)}${inEffect}`,
    `- ${md(result.injection.summary)}`,
    ...(timing.writesFailingSince
      ? [
          `- The canary's writes failed from ${md(timing.writesFailingSince)}${timing.writesFailedFirst ? `, **${md(timing.writesFailedFirst)}**` : ''}`,
        ]
      : []),
    restored,
    `- Measured: ${md(timing.method)}`,
  ];
}

function stepsSection(result: DrillResult): string[] {
  const rows = stepRows(result).map((row) => [
    `${code(row.stepId)}${row.critical ? ' ●' : ''}`,
    md(row.kind),
    formatOffset(row.startOffsetMs),
    row.durationMs === null ? 'running' : formatMs(row.durationMs),
    formatShare(row.shareOfRto),
    String(row.attempts),
    md(row.outcome),
  ]);
  return [
    '## Failover steps',
    '',
    `Workflow ${code(result.failover.workflowId)} — ${md(result.failover.status)}. ● on the critical path.`,
    '',
    ...table(['step', 'kind', 'start', 'duration', 'share of RTO', 'attempts', 'outcome'], rows),
    ...restoredNote(result),
  ];
}

/** `audit`: the failover's recorded operator actions and a signature check, for the contingency-test section. */
export function renderMarkdown(result: DrillResult, audit: AuditContext = {}): string {
  const verdict = OUTCOME_HEADLINE[drillOutcome(result)];
  const untested = untestedSentence(result);
  const lines = [
    `# ${verdict}: drill ${md(result.drillId)} of runbook ${md(result.runbookId)}`,
    '',
    ...(untested === undefined ? [] : [`> ${md(untested)}`, '']),
    ...objectiveRows(result).map(
      (row) =>
        `**${row.objective} ${verdictLabel(row.passed)}** — measured ${formatMeasured(row.measuredMs)} against ${formatMs(
          row.targetMs,
        )}${row.marginMs === null ? '' : `, margin ${formatSignedMs(row.marginMs)}`}  `,
    ),
  ];
  if (result.error)
    lines.push('', `> Drill ${untested === undefined ? 'error' : 'stopped'}: ${md(result.error)}`);
  lines.push(
    '',
    ...objectivesSection(result),
    '',
    ...dataLossSection(result),
    '',
    ...injectionSection(result),
    '',
    ...stepsSection(result),
    '',
    ...auditMarkdown(buildAuditMapping(result, audit)),
    '',
    '## Who, why, when',
    '',
    `- Initiator: ${md(result.initiator)}`,
    `- Reason: ${md(result.reason)}`,
    `- Started ${md(result.startedAt)}, ended ${md(result.endedAt)}`,
    ...(result.authorization
      ? [
          `- Access policy sha256 ${code(result.authorization.policySha256)}; every operator action is signed (re-check with \`drctl verify-run --file\`)`,
        ]
      : []),
    ...breakGlassUsesOf(result).map(
      (use) =>
        `- **BREAK-GLASS**: ${md(use.action)}${use.stepId ? ` ${code(use.stepId)}` : ''} by ${code(use.keyId)} (held by ${md(use.holder)}) at ${md(use.at)}: ${md(use.reason)}`,
    ),
    '',
    '## Runbook and environment',
    '',
    `- Runbook: ${code(result.runbookId)} sha256 ${code(result.runbookHash)}`,
    `- Temporal namespace: ${md(result.environment.temporalNamespace)}, task queue: ${md(
      result.environment.taskQueue,
    )}`,
  );
  if (result.environment.workerBuild) lines.push(`- Worker build: ${md(result.environment.workerBuild)}`);
  return `${lines.join('\n')}\n`;
}
