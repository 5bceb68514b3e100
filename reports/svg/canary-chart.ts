/**
 * The canary's acknowledged writes per second around the failure: the injection, the newest row the promoted
 * database still has, and the acknowledged writes it lost between them.
 */
import type { DrillResult } from '../../workflows/drill-types';
import { escapeMarkup as esc } from '../escape';
import { formatOffset } from '../format';
import { linearScale, niceTicks, px } from './scale';

const WIDTH = 760;
const HEIGHT = 220;
const LEFT = 44;
const RIGHT = 16;
const TOP = 30;
const BOTTOM = 28;
const BUCKET_MS = 1000;

export function canaryChart(result: DrillResult): string {
  const canary = result.canary;
  if (!canary || canary.series.length === 0) {
    return '<p id="canary" data-testid="canary" class="empty">No canary writes were recorded.</p>';
  }
  const injectedMs = Date.parse(result.injection.injectedAt);
  const newestPresentMs =
    result.dataLoss?.newestPresentAt == null ? null : Date.parse(result.dataLoss.newestPresentAt);
  const lastAckMs = canary.lastAcknowledgedAt === null ? null : Date.parse(canary.lastAcknowledgedAt);
  const times = canary.series.map(([time]) => time);
  const start = Math.min(...times, injectedMs, newestPresentMs ?? injectedMs);
  const end = Math.max(...times.map((time) => time + BUCKET_MS), injectedMs, lastAckMs ?? injectedMs);
  const maxRows = Math.max(1, ...canary.series.map(([, rows]) => rows));
  const x = linearScale([start, end], [LEFT, WIDTH - RIGHT]);
  const y = linearScale([0, maxRows * 1.1], [HEIGHT - BOTTOM, TOP]);
  const plotBottom = HEIGHT - BOTTOM;

  const parts: string[] = [];
  for (const tick of niceTicks(0, maxRows * 1.1, 4)) {
    parts.push(
      `<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${px(y(tick))}" y2="${px(y(tick))}"/>`,
      `<text class="tick" x="${LEFT - 6}" y="${px(y(tick) + 4)}" text-anchor="end">${tick}</text>`,
    );
  }
  for (const tick of niceTicks(start - injectedMs, end - injectedMs, 8)) {
    parts.push(
      `<text class="tick" x="${px(x(injectedMs + tick))}" y="${plotBottom + 16}" text-anchor="middle">${esc(
        formatOffset(tick),
      )}</text>`,
    );
  }
  const lostRows = result.dataLoss?.lostRows ?? 0;
  if (lostRows > 0 && newestPresentMs !== null) {
    const lostEnd = Math.max(lastAckMs ?? injectedMs, newestPresentMs);
    parts.push(
      `<rect class="lost" data-testid="canary-lost-region" x="${px(x(newestPresentMs))}" y="${TOP}" width="${px(
        Math.max(2, x(lostEnd) - x(newestPresentMs)),
      )}" height="${plotBottom - TOP}"><title>${lostRows} acknowledged row(s) lost</title></rect>`,
    );
  }
  for (const [time, rows] of canary.series) {
    const left = x(time) + 1;
    const width = Math.max(1, x(time + BUCKET_MS) - x(time) - 2);
    parts.push(
      `<rect class="canary-bar" data-testid="canary-bar" data-rows="${rows}" x="${px(left)}" y="${px(
        y(rows),
      )}" width="${px(width)}" height="${px(plotBottom - y(rows))}"><title>${esc(
        `${formatOffset(time - injectedMs)}: ${rows} row(s) acknowledged`,
      )}</title></rect>`,
    );
  }
  parts.push(
    `<line class="marker injection" data-testid="canary-injection" x1="${px(x(injectedMs))}" x2="${px(
      x(injectedMs),
    )}" y1="${TOP - 6}" y2="${plotBottom}"/>`,
    `<text class="marker-label" x="${px(x(injectedMs) + 4)}" y="${TOP - 10}">failure injected</text>`,
  );
  if (newestPresentMs !== null) {
    parts.push(
      `<line class="marker newest-present" data-testid="canary-newest-present" x1="${px(
        x(newestPresentMs),
      )}" x2="${px(x(newestPresentMs))}" y1="${TOP - 6}" y2="${plotBottom}"/>`,
      `<text class="marker-label" x="${px(x(newestPresentMs) - 4)}" y="${TOP - 10}" text-anchor="end">newest row present</text>`,
    );
  }
  parts.push(`<line class="axis" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${plotBottom}" y2="${plotBottom}"/>`);
  return `<svg id="canary" data-testid="canary" role="img" aria-label="Canary rows acknowledged per second around the failure" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">${parts.join(
    '',
  )}</svg>`;
}
