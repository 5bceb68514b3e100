import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import passing from '../fixtures/drill-result-pass.json';
import rpoMissed from '../fixtures/drill-result-rpo-fail.json';
import { renderHtml } from '../../reports/render-html';
import type { DrillResult } from '../../workflows/drill-types';

const CHROMIUM = '/usr/bin/chromium';
const pass = passing as DrillResult;
const rpoFail = rpoMissed as DrillResult;

/** Earlier drills of the same runbook: the passing fixture re-dated, with other measurements. */
function pastDrill(daysBefore: number, rtoMs: number, rpoMs: number): DrillResult {
  const shift = (iso: string): string => new Date(Date.parse(iso) - daysBefore * 86_400_000).toISOString();
  const verdict = (objective: 'RTO' | 'RPO', targetMs: number, measuredMs: number) => ({
    objective,
    targetMs,
    measuredMs,
    marginMs: targetMs - measuredMs,
    passed: measuredMs <= targetMs,
  });
  return {
    ...pass,
    drillId: `drill-ehr-db-past-${daysBefore}d`,
    startedAt: shift(pass.startedAt),
    endedAt: shift(pass.endedAt),
    measured: { rtoMs, rpoMs },
    verdicts: [verdict('RTO', pass.objectives.rtoMs, rtoMs), verdict('RPO', pass.objectives.rpoMs, rpoMs)],
  };
}

const history = [pastDrill(90, 21_300, 400), pastDrill(60, 16_900, 1_600), pastDrill(30, 12_200, 250), pass];

describe('the HTML drill report in a browser', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let fileUrl: string;
  const requests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: run 'npm run setup' as root (or 'apt-get install -y chromium')`,
      );
    }
    // GIVEN the report of a drill that missed its RPO, with four earlier drills of its runbook, in a file
    dir = await mkdtemp(join(tmpdir(), 'drctl-report-'));
    const file = join(dir, 'report.html');
    await writeFile(file, renderHtml(rpoFail, history));
    fileUrl = pathToFileURL(file).href;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('request', (request) => requests.push(request.url()));
    // WHEN a browser opens it
    await page.goto(fileUrl, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the headline says FAIL and names the runbook', async () => {
    const headline = await page.locator('#headline h1').innerText();
    expect(headline).toContain('FAIL');
    expect(headline).toContain('ehr-db');
    expect(await page.title()).toBe('FAIL: drill drill-ehr-db-20261127-1402 of ehr-db');
  });

  test('RTO and RPO show measured value, objective, margin and verdict', async () => {
    expect(await page.getByTestId('rto-measured').innerText()).toBe('14.4s');
    expect(await page.getByTestId('rto-margin').innerText()).toBe('margin +15.6s');
    expect(await page.locator('#rto [data-testid=badge]').innerText()).toBe('PASS');
    expect(await page.getByTestId('rpo-measured').innerText()).toBe('3.4s');
    expect(await page.getByTestId('rpo-objective').innerText()).toBe('1s');
    expect(await page.getByTestId('rpo-margin').innerText()).toBe('margin -2.4s');
    expect(await page.locator('#rpo [data-testid=badge]').innerText()).toBe('FAIL');
  });

  test('the Gantt chart draws one visible bar per step, inside the RTO window', async () => {
    const bars = page.locator('#gantt [data-testid=gantt-bar]');
    expect(await bars.count()).toBe(rpoFail.failover.timeline.length);
    expect(await bars.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-step-id')))).toEqual(
      rpoFail.failover.timeline.map((entry) => entry.stepId),
    );
    const window = await page.getByTestId('gantt-rto-window').boundingBox();
    for (const box of await bars.evaluateAll((nodes) =>
      nodes.map((node) => {
        const rect = node.getBoundingClientRect();
        return { x: rect.x, width: rect.width };
      }),
    )) {
      expect(box.width).toBeGreaterThan(1);
      expect(box.x).toBeGreaterThanOrEqual(window?.x ?? Number.NaN);
      expect(box.x + box.width).toBeLessThanOrEqual((window?.x ?? 0) + (window?.width ?? 0) + 0.5);
    }
  });

  test('the canary chart has a bar per second, the injection and newest-row markers and the lost region', async () => {
    const bars = page.locator('#canary [data-testid=canary-bar]');
    expect(await bars.count()).toBe(rpoFail.canary?.series.length);
    const heights = await bars.evaluateAll((nodes) =>
      nodes.map((node) => node.getBoundingClientRect().height),
    );
    expect(heights.filter((height) => height > 0)).toHaveLength(
      rpoFail.canary?.series.filter(([, rows]) => rows > 0).length ?? -1,
    );
    const injection = await page.getByTestId('canary-injection').boundingBox();
    const newest = await page.getByTestId('canary-newest-present').boundingBox();
    const lost = await page.getByTestId('canary-lost-region').boundingBox();
    // The newest row present came 3.4 s before the injection; the lost rows lie between them.
    expect(newest!.x).toBeLessThan(injection!.x);
    // Bounding boxes include the stroke, so allow a pixel or so.
    expect(Math.abs(lost!.x - (newest!.x + newest!.width / 2))).toBeLessThan(1.5);
    expect(lost!.x + lost!.width).toBeLessThanOrEqual(injection!.x + injection!.width);
  });

  test('the trend chart has a point per drill of the runbook for RTO and for RPO, with objective lines', async () => {
    const drills = history.length + 1;
    expect(await page.locator('#trend [data-testid=trend-rto-point]').count()).toBe(drills);
    expect(await page.locator('#trend [data-testid=trend-rpo-point]').count()).toBe(drills);
    expect(await page.locator('#trend .point.fail').count()).toBe(2);
    expect(await page.getByTestId('trend-rto-objective').count()).toBe(1);
    expect(await page.getByTestId('trend-rpo-objective').count()).toBe(1);
  });

  test('the page made no request but for its own file', () => {
    expect(requests).toEqual([fileUrl]);
  });
});
