import { formatMs } from '../runbooks/duration';
import type { DrillResult } from '../workflows/drill-types';
import { terminalSafe } from './terminal-safe';

/** The drill's verdict in a few lines for the terminal; `drctl report` gives the full views. */
export function renderDrillSummary(result: DrillResult): string {
  const lines = [
    `${result.drillId}: ${result.passed ? 'PASSED' : 'FAILED'} (runbook ${result.runbookId}, ${result.injection.action})`,
  ];
  for (const verdict of result.verdicts) {
    const measured = Number.isNaN(verdict.measuredMs) ? 'not measured' : formatMs(verdict.measuredMs);
    const margin = Number.isNaN(verdict.marginMs)
      ? ''
      : ` (margin ${verdict.marginMs < 0 ? '-' : ''}${formatMs(Math.abs(verdict.marginMs))})`;
    lines.push(
      `  ${verdict.passed ? '✔' : '✖'} ${verdict.objective} ${measured} against ${formatMs(verdict.targetMs)}${margin}`,
    );
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
