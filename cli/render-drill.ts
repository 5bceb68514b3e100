import { formatMs } from '../runbooks/duration';
import { objectiveRows } from '../reports/objective-rows';
import { figure, objectiveLabel, serviceRows } from '../reports/render-evacuation-drill';
import { drillOutcome, untestedSentence, type DrillResult } from '../workflows/drill-types';
import type { EvacuationDrillResult } from '../workflows/evacuation-drill-types';
import { terminalSafe } from './terminal-safe';

const DRILL_SUMMARY_WORD = {
  passed: 'PASSED',
  failed: 'FAILED',
  'called-off': 'CALLED OFF',
  refused: 'REFUSED',
} as const;

/** The drill's verdict in a few lines for the terminal; `drctl report` gives the full views. */
export function renderDrillSummary(result: DrillResult): string {
  const lines = [
    `${result.drillId}: ${DRILL_SUMMARY_WORD[drillOutcome(result)]} (runbook ${result.runbookId}, ${result.injection.action})`,
  ];
  const untested = untestedSentence(result);
  if (untested !== undefined) lines.push(`  ${terminalSafe(untested)}`);
  for (const row of objectiveRows(result)) {
    const measured = row.measuredMs === null ? 'not measured' : formatMs(row.measuredMs);
    const margin =
      row.marginMs === null
        ? ''
        : ` (margin ${row.marginMs < 0 ? '-' : ''}${formatMs(Math.abs(row.marginMs))})`;
    const mark = row.passed === null ? '–' : row.passed ? '✔' : '✖';
    lines.push(`  ${mark} ${row.objective} ${measured} against ${formatMs(row.targetMs)}${margin}`);
  }
  if (result.dataLoss) {
    lines.push(
      `  canary rows lost: ${result.dataLoss.lostRows} of ${result.canary?.acknowledged ?? '?'} acknowledged`,
    );
  }
  if (result.error) lines.push(`  ${terminalSafe(result.error)}`);
  lines.push(`  full report: drctl report ${result.drillId} --format html > report.html`);
  return lines.join('\n');
}

/** A drill of an evacuation in a few lines: the verdict, each service against its own objectives, the waves. */
export function renderEvacuationDrillSummary(result: EvacuationDrillResult): string {
  const untested = untestedSentence(result);
  const lines = [
    `${result.drillId}: ${DRILL_SUMMARY_WORD[drillOutcome(result)]} (evacuation ${result.evacuationId}, ${result.action}; ` +
      `${untested !== undefined ? 'nothing injected' : result.restoredAllMs === null ? 'not every service restored' : `every service restored in ${formatMs(result.restoredAllMs)}`})`,
  ];
  if (untested !== undefined) lines.push(`  ${terminalSafe(untested)}`);
  for (const row of serviceRows(result)) {
    lines.push(
      `  ${untested !== undefined ? '–' : row.passed ? '✔' : '✖'} ${row.runbookId.padEnd(24)} ${row.wave.padEnd(12)} RTO ${figure(row.rto)} ${objectiveLabel(row.rto)}  RPO ${figure(row.rpo)} ${objectiveLabel(row.rpo)}  ${row.state}`,
    );
    if (row.note) lines.push(`      ${terminalSafe(row.note)}`);
  }
  for (const wave of result.waves) {
    const span =
      wave.startMs === null
        ? 'not started'
        : `T+${formatMs(Math.max(0, wave.startMs))}…${wave.endMs === null ? '?' : `T+${formatMs(wave.endMs)}`}`;
    lines.push(
      `  wave ${wave.id}: ${span}${wave.durationMs === null ? '' : ` (${formatMs(wave.durationMs)})`}`,
    );
  }
  if (result.error) lines.push(`  ${terminalSafe(result.error)}`);
  lines.push(`  full report: drctl report ${result.drillId} --format html > report.html`);
  return lines.join('\n');
}
