/** RTO and RPO of past drills of the same runbook, oldest first, against the current objectives. */
import { formatMs } from '../../runbooks/duration';
import type { DrillResult } from '../../workflows/drill-types';
import { escapeMarkup as esc } from '../escape';
import { injectionTiming } from '../injection-timing';
import { objectiveRow, type ObjectiveName } from '../objective-rows';
import { linearScale, niceTicks, px } from './scale';

const PANEL_WIDTH = 370;
const HEIGHT = 180;
const LEFT = 48;
const RIGHT = 14;
const TOP = 26;
const BOTTOM = 30;

/** The drills the trend shows: this one and the history of the same runbook, each once, oldest first. */
export function trendDrills(result: DrillResult, history: readonly DrillResult[]): DrillResult[] {
  const byId = new Map<string, DrillResult>();
  for (const drill of history) {
    if (drill.runbookId === result.runbookId) byId.set(drill.drillId, drill);
  }
  byId.set(result.drillId, result);
  return [...byId.values()].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
}

function shortDate(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

function panel(
  objective: ObjectiveName,
  drills: DrillResult[],
  current: DrillResult,
  offsetX: number,
  /** Drills whose value was measured otherwise than the others' (hollow, not joined to them). */
  measuredOtherwise: ReadonlySet<string> = new Set(),
): string {
  const key = objective.toLowerCase();
  const targetMs = objectiveRow(current, objective).targetMs;
  const rows = drills.map((drill) => ({ drill, row: objectiveRow(drill, objective) }));
  const maxMs = Math.max(targetMs, ...rows.map(({ row }) => row.measuredMs ?? 0)) * 1.15;
  const x = linearScale(
    [0, Math.max(1, drills.length - 1)],
    [
      offsetX + LEFT + (drills.length === 1 ? (PANEL_WIDTH - LEFT - RIGHT) / 2 : 0),
      offsetX + PANEL_WIDTH - RIGHT,
    ],
  );
  const y = linearScale([0, maxMs], [HEIGHT - BOTTOM, TOP]);
  const parts: string[] = [
    `<text class="panel-title" x="${offsetX + LEFT}" y="16">${objective} per drill</text>`,
  ];
  for (const tick of niceTicks(0, maxMs, 4)) {
    parts.push(
      `<line class="grid" x1="${offsetX + LEFT}" x2="${offsetX + PANEL_WIDTH - RIGHT}" y1="${px(y(tick))}" y2="${px(
        y(tick),
      )}"/>`,
      `<text class="tick" x="${offsetX + LEFT - 6}" y="${px(y(tick) + 4)}" text-anchor="end">${esc(
        formatMs(tick),
      )}</text>`,
    );
  }
  parts.push(
    `<line class="objective-line" data-testid="trend-${key}-objective" x1="${offsetX + LEFT}" x2="${
      offsetX + PANEL_WIDTH - RIGHT
    }" y1="${px(y(targetMs))}" y2="${px(y(targetMs))}"><title>${objective} objective ${esc(
      formatMs(targetMs),
    )}</title></line>`,
  );
  const measured = rows.flatMap(({ drill, row }, index) =>
    row.measuredMs === null
      ? []
      : [
          {
            drill,
            row,
            cx: x(index),
            cy: y(row.measuredMs),
            otherwise: measuredOtherwise.has(drill.drillId),
          },
        ],
  );
  // A line joins only drills measured alike: a line across a change of method would show it as a change of the
  // estate.
  for (const segment of runsOf(measured, (point) => point.otherwise)) {
    if (segment.length < 2) continue;
    parts.push(
      `<polyline class="trend-line" points="${segment.map(({ cx, cy }) => `${px(cx)},${px(cy)}`).join(' ')}"/>`,
    );
  }
  for (const { drill, row, cx, cy, otherwise } of measured) {
    const classes = [
      row.passed ? 'pass' : 'fail',
      drill.drillId === current.drillId ? 'current' : '',
      otherwise ? 'timed-from-return' : '',
    ]
      .filter(Boolean)
      .join(' ');
    parts.push(
      `<circle class="point ${classes}" data-testid="trend-${key}-point" data-drill-id="${esc(
        drill.drillId,
      )}" cx="${px(cx)}" cy="${px(cy)}" r="${drill.drillId === current.drillId ? 5 : 3.5}"><title>${esc(
        `${drill.drillId} (${shortDate(drill.startedAt)}): ${objective} ${formatMs(row.measuredMs ?? 0)}${otherwise ? ` (${TIMED_FROM_RETURN})` : ''}`,
      )}</title></circle>`,
    );
  }
  const first = drills[0];
  const last = drills[drills.length - 1];
  if (first && last) {
    parts.push(
      `<text class="tick" x="${offsetX + LEFT}" y="${HEIGHT - 8}">${esc(shortDate(first.startedAt))}</text>`,
    );
    if (drills.length > 1) {
      parts.push(
        `<text class="tick" x="${offsetX + PANEL_WIDTH - RIGHT}" y="${HEIGHT - 8}" text-anchor="end">${esc(
          shortDate(last.startedAt),
        )}</text>`,
      );
    }
  }
  return parts.join('');
}

const TIMED_FROM_RETURN =
  "measured from the injection's return: recorded before the start of an injection was timed";

/**
 * The drills whose RTO was measured from the injection's return (recorded before the start of an injection was
 * timed), when the chart also has RTOs measured from its start; none when all were measured alike. Only the RTO
 * changed: the RPO was measured to the moment the injection was in effect throughout (which older drills took to
 * be its return).
 */
function rtoMeasuredOtherwise(drills: readonly DrillResult[]): ReadonlySet<string> {
  const measured = drills.filter((drill) => objectiveRow(drill, 'RTO').measuredMs !== null);
  const older = measured.filter((drill) => injectionTiming(drill)?.inEffect === undefined);
  return older.length === 0 || older.length === measured.length
    ? new Set()
    : new Set(older.map((drill) => drill.drillId));
}

/** `items` cut into runs of consecutive items with the same `key`. */
function runsOf<T>(items: readonly T[], key: (item: T) => unknown): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const last = runs[runs.length - 1];
    if (last !== undefined && key(last[0] as T) === key(item)) last.push(item);
    else runs.push([item]);
  }
  return runs;
}

/** A sentence under the chart when its RTOs were not all measured alike; empty when they were. */
export function trendMethodNote(result: DrillResult, history: readonly DrillResult[]): string {
  const drills = trendDrills(result, history);
  const otherwise = rtoMeasuredOtherwise(drills);
  if (otherwise.size === 0) return '';
  const measured = drills.filter((drill) => objectiveRow(drill, 'RTO').measuredMs !== null).length;
  return `${otherwise.size} of the ${measured} RTOs charted ${otherwise.size === 1 ? 'was' : 'were'} ${TIMED_FROM_RETURN}: their points are hollow, and no line joins them to RTOs measured from the injection's start. RPO was measured alike throughout.`;
}

export function trendChart(result: DrillResult, history: readonly DrillResult[]): string {
  const drills = trendDrills(result, history);
  const width = PANEL_WIDTH * 2 + 20;
  return `<svg id="trend" data-testid="trend" data-drills="${drills.length}" role="img" aria-label="RTO and RPO of drills of runbook ${esc(
    result.runbookId,
  )}" viewBox="0 0 ${width} ${HEIGHT}" width="${width}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">${panel(
    'RTO',
    drills,
    result,
    0,
    rtoMeasuredOtherwise(drills),
  )}${panel('RPO', drills, result, PANEL_WIDTH + 20)}</svg>`;
}
