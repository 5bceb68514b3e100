/** The failover steps as a Gantt chart relative to the injected failure, with the RTO window marked. */
import { formatMs } from '../../runbooks/duration';
import type { DrillResult } from '../../workflows/drill-types';
import { escapeMarkup as esc } from '../escape';
import { formatOffset } from '../format';
import type { StepRow } from '../step-rows';
import { linearScale, niceTicks, px } from './scale';

const WIDTH = 760;
const LABEL_WIDTH = 170;
const RIGHT_PAD = 24;
const TOP = 38;
const ROW_HEIGHT = 22;
const BAR_HEIGHT = 14;
const BOTTOM = 26;
// An objective far beyond the measurement would squash every bar; past this factor the window runs off the edge.
const OBJECTIVE_CLIP_FACTOR = 3;

export function ganttChart(result: DrillResult, rows: StepRow[]): string {
  const rtoObjective = result.objectives.rtoMs;
  const restoredMs = result.measured.rtoMs;
  const ends = rows.map((row) => row.startOffsetMs + (row.durationMs ?? 0));
  const observedEnd = Math.max(1000, restoredMs ?? 0, ...ends);
  const objectiveClipped = rtoObjective > observedEnd * OBJECTIVE_CLIP_FACTOR;
  const domainEnd = objectiveClipped ? observedEnd * 1.1 : Math.max(observedEnd, rtoObjective) * 1.05;
  const domainStart = Math.min(0, ...rows.map((row) => row.startOffsetMs));
  const height = TOP + rows.length * ROW_HEIGHT + BOTTOM;
  const x = linearScale([domainStart, domainEnd], [LABEL_WIDTH, WIDTH - RIGHT_PAD]);
  const plotBottom = TOP + rows.length * ROW_HEIGHT;

  const parts: string[] = [];
  const windowEnd = x(Math.min(rtoObjective, domainEnd));
  parts.push(
    `<rect class="rto-window" data-testid="gantt-rto-window" x="${px(x(0))}" y="${TOP}" width="${px(
      windowEnd - x(0),
    )}" height="${rows.length * ROW_HEIGHT}"><title>RTO objective ${esc(result.objectives.rto)}</title></rect>`,
    `<text class="window-label" x="${px(windowEnd - 4)}" y="14" text-anchor="end">RTO objective ${esc(
      result.objectives.rto,
    )}${objectiveClipped ? ' →' : ''}</text>`,
  );
  for (const tick of niceTicks(domainStart, domainEnd, 6)) {
    parts.push(
      `<line class="grid" x1="${px(x(tick))}" x2="${px(x(tick))}" y1="${TOP}" y2="${plotBottom}"/>`,
      `<text class="tick" x="${px(x(tick))}" y="${plotBottom + 16}" text-anchor="middle">${esc(
        formatOffset(tick),
      )}</text>`,
    );
  }
  rows.forEach((row, index) => {
    const y = TOP + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const start = x(row.startOffsetMs);
    const end = x(row.startOffsetMs + (row.durationMs ?? domainEnd - row.startOffsetMs));
    const duration = row.durationMs === null ? 'still running' : formatMs(row.durationMs);
    parts.push(
      `<text class="step-label" x="${LABEL_WIDTH - 8}" y="${px(y + BAR_HEIGHT - 3)}" text-anchor="end">${esc(
        row.stepId,
      )}</text>`,
      `<rect class="bar ${esc(row.status)}${row.critical ? ' critical' : ''}" data-testid="gantt-bar" data-step-id="${esc(
        row.stepId,
      )}" x="${px(start)}" y="${px(y)}" width="${px(Math.max(1.5, end - start))}" height="${BAR_HEIGHT}" rx="2"><title>${esc(
        `${row.stepId} (${row.kind}): ${formatOffset(row.startOffsetMs)}, ${duration}, ${row.attempts} attempt(s), ${row.outcome}`,
      )}</title></rect>`,
    );
  });
  parts.push(
    `<line class="marker injection" data-testid="gantt-injection" x1="${px(x(0))}" x2="${px(x(0))}" y1="${
      TOP - 4
    }" y2="${plotBottom}"/>`,
  );
  if (restoredMs !== null) {
    parts.push(
      `<line class="marker restored" data-testid="gantt-restored" x1="${px(x(restoredMs))}" x2="${px(
        x(restoredMs),
      )}" y1="${TOP - 4}" y2="${plotBottom}"><title>restored ${esc(formatOffset(restoredMs))}</title></line>`,
      `<text class="marker-label" x="${px(x(restoredMs) + 4)}" y="${TOP - 8}">restored ${esc(
        formatOffset(restoredMs),
      )}</text>`,
    );
  }
  return `<svg id="gantt" data-testid="gantt" role="img" aria-label="Failover steps relative to the injected failure" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join(
    '',
  )}</svg>`;
}
