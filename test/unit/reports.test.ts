import passing from '../fixtures/drill-result-pass.json';
import rpoMissed from '../fixtures/drill-result-rpo-fail.json';
import { REPORT_FORMATS, renderReport } from '../../reports';
import { escapeMarkdown, escapeMarkup } from '../../reports/escape';
import { renderHtml } from '../../reports/render-html';
import { renderJson } from '../../reports/render-json';
import { renderJunit } from '../../reports/render-junit';
import { renderMarkdown } from '../../reports/render-markdown';
import { stepRows } from '../../reports/step-rows';
import { ganttChart } from '../../reports/svg/gantt-chart';
import { trendDrills } from '../../reports/svg/trend-chart';
import { renderDrillSummary } from '../../cli/render-drill';
import { drillRunExitCode } from '../../cli/drill-runs';
import { ExitCode } from '../../cli/cli-error';
import { NOT_INJECTED, drillOutcome, type DrillResult } from '../../workflows/drill-types';

const pass = passing as DrillResult;
const rpoFail = rpoMissed as DrillResult;
const HOSTILE = `<script>alert('pwned')</script> "quoted" & | pipe`;

/** Counts occurrences without a regular expression, so the test cannot share the renderer's mistakes. */
function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('renderMarkdown', () => {
  test('GIVEN a passing drill WHEN rendered THEN the headline, objectives, margins and data loss carry its numbers', () => {
    const markdown = renderMarkdown(pass);
    expect(markdown.startsWith('# PASS: drill drill-ehr-db-20261127-0815 of runbook ehr-db\n')).toBe(true);
    expect(markdown).toContain('| RTO | 11.8s | 30s | +18.2s | **PASS** |');
    expect(markdown).toContain('| RPO | 200ms | 1s | +800ms | **PASS** |');
    expect(markdown).toContain('- Lost rows: **1** of 50 acknowledged by the old primary');
    expect(markdown).toContain('#49 written at 2026-11-27T08:15:10.230Z');
  });

  test('GIVEN a drill that missed its RPO WHEN rendered THEN it reads FAIL with the negative margin', () => {
    const markdown = renderMarkdown(rpoFail);
    expect(markdown.startsWith('# FAIL:')).toBe(true);
    expect(markdown).toContain('**RPO FAIL** — measured 3.4s against 1s, margin -2.4s');
    expect(markdown).toContain('| RPO | 3.4s | 1s | -2.4s | **FAIL** |');
    expect(markdown).toContain('- Lost rows: **33** of 60');
  });

  test('GIVEN the failover timeline WHEN rendered THEN each step has offset, duration, share of RTO, attempts and outcome', () => {
    const markdown = renderMarkdown(rpoFail);
    expect(markdown).toContain(
      '| `fence-primary` ● | database.fence | T+2.42s | 3.24s | 22.5% | 2 | succeeded — ehr-primary unreachable (stopped); fenced by revoking its connection slot |',
    );
    expect(markdown).toContain('| `degraded-mode-on` | flags.set | T+950ms | 180ms | 1.3% | 1 |');
    expect(count(markdown, '\n| `')).toBe(rpoFail.failover.timeline.length);
  });

  test('GIVEN who, why, the runbook version and environment WHEN rendered THEN all appear', () => {
    const markdown = renderMarkdown(pass);
    expect(markdown).toContain('- Initiator: maria.okafor@example.org');
    expect(markdown).toContain('- Reason: Quarterly DR drill (CHG-2291)');
    expect(markdown).toContain(`sha256 \`${pass.runbookHash}\``);
    expect(markdown).toContain('task queue: drctl-failover');
    expect(markdown).toContain('Action: `fence-primary`, began at 2026-11-27T08:15:10.430Z');
  });

  test('GIVEN a drill recorded before the injection start was timed WHEN rendered THEN it says both were measured from when the injection returned', () => {
    const markdown = renderMarkdown(pass);
    expect(markdown).toContain('- Measured: RTO from when the injection returned');
    expect(markdown).not.toContain('in effect at');
  });

  test("GIVEN an injection that took 150 ms and a canary whose writes failed during it WHEN rendered THEN both moments and the method are shown, in Markdown, HTML and the audit's measurement", () => {
    const timed: DrillResult = {
      ...pass,
      restoredBy: 'write-probe',
      injection: { ...pass.injection, inEffectAt: '2026-11-27T08:15:10.580Z' },
      canary: pass.canary && { ...pass.canary, writesFailingSince: '2026-11-27T08:15:10.531Z' },
    };
    const markdown = renderMarkdown(timed);
    expect(markdown).toContain(
      'Action: `fence-primary`, began at 2026-11-27T08:15:10.430Z, in effect at 2026-11-27T08:15:10.580Z (took 150ms)',
    );
    expect(markdown).toContain("- The canary's writes failed from 2026-11-27T08:15:10.531Z");
    expect(markdown).toContain(
      "- Measured: RTO from when the injection began to the first write through the switched name, so the injection's own 150ms counts as outage; RPO from the newest canary row on the promoted database to when the injection was in effect",
    );
    expect(markdown).toContain('RTO = the first write through the switched name − injection began');
    expect(markdown).toContain('RPO = injection in effect − newest canary row');
    const html = renderHtml(timed);
    expect(html).toContain(
      '<dt>In effect at</dt><dd><time>2026-11-27T08:15:10.580Z</time> (took 150ms)</dd>',
    );
    expect(html).toContain('<dt>Began at</dt><dd><time>2026-11-27T08:15:10.430Z</time></dd>');
  });

  test("GIVEN a runbook without a write probe WHEN its drill is rendered THEN the RTO is said to end at the failover's end, not at a client write", () => {
    // Before: every report said "to the first write through the switched name", a write that was never made.
    const unprobed: DrillResult = {
      ...pass,
      restoredBy: 'failover-end',
      injection: { ...pass.injection, inEffectAt: '2026-11-27T08:15:10.580Z' },
    };
    const method =
      "RTO from when the injection began to the failover's end (the runbook has no write probe through DNS, so no client write was measured)";
    const markdown = renderMarkdown(unprobed);
    expect(markdown).toContain(`- Measured: ${escapeMarkdown(method)}`);
    expect(markdown).toContain(
      escapeMarkdown(
        "RTO = the failover's end (the runbook has no write probe through DNS, so no client write was measured) − injection began",
      ),
    );
    expect(markdown).not.toContain('first write');
    expect(renderHtml(unprobed)).toContain(escapeMarkup(method));
    // Recorded before drctl kept which: both are named.
    expect(renderMarkdown({ ...unprobed, restoredBy: undefined } as DrillResult)).toContain(
      escapeMarkdown(
        "to the first write through the switched name (or, for a runbook without a write probe, the failover's end)",
      ),
    );
  });

  test('GIVEN service restored while the DNS step was still confirming WHEN rendered THEN the reports say why "restored" falls inside that step', () => {
    // Before: "Service restored T+9.57s" beside a switch-dns row running to T+10.9s, unexplained.
    const early: DrillResult = { ...pass, restoredAt: '2026-11-27T08:15:20.000Z' };
    const note =
      'Service was restored at T+9.57s, while switch-dns (ended T+10.9s) was still running: a write through the switched name succeeded before the step confirmed its change (a DNS change is answered before Route 53 reports it INSYNC). probe-writes ran after service was back. What a step took after the restoration is no part of the RTO.';
    expect(renderMarkdown(early)).toContain(escapeMarkdown(note));
    expect(renderHtml(early)).toContain(
      `<p class="muted" data-testid="restored-note">${escapeMarkup(note)}</p>`,
    );
    expect(renderMarkdown(pass)).not.toContain('Service was restored at');
  });

  test("GIVEN the canary's writes failed before the injection began WHEN rendered THEN the report says the RTO's origin is in question", () => {
    const early: DrillResult = {
      ...pass,
      injection: { ...pass.injection, inEffectAt: '2026-11-27T08:15:10.580Z' },
      canary: pass.canary && { ...pass.canary, writesFailingSince: '2026-11-27T08:15:10.100Z' },
    };
    expect(renderMarkdown(early)).toContain(
      "- The canary's writes failed from 2026-11-27T08:15:10.100Z, **before the injection began: another cause, or the canary's and the injection's worker clocks apart**",
    );
  });

  test('GIVEN a drill that injected nothing WHEN rendered THEN its injection section says so and gives no time', () => {
    const markdown = renderMarkdown({ ...pass, injection: { ...pass.injection, summary: NOT_INJECTED } });
    expect(markdown).toContain('- Nothing was injected (`fence-primary`)');
    expect(markdown).not.toContain('began at');
  });

  test('GIVEN a reason with HTML and a pipe WHEN rendered THEN no raw markup and no broken table cell', () => {
    const markdown = renderMarkdown({ ...pass, reason: HOSTILE, initiator: 'a\nb' });
    expect(markdown).not.toContain('<script>');
    expect(markdown).toContain('&lt;script&gt;');
    expect(markdown).toContain('\\| pipe');
    expect(markdown).toContain('- Initiator: a b');
  });
});

describe('renderHtml', () => {
  test('GIVEN a reason, step summary and error with <script> WHEN rendered THEN none becomes markup', () => {
    const timeline = pass.failover.timeline.map((entry, index) =>
      index === 0 ? { ...entry, stepId: `x"><script>1</script>`, summary: HOSTILE } : entry,
    );
    const html = renderHtml({
      ...pass,
      reason: HOSTILE,
      error: HOSTILE,
      runbookId: '<img src=x onerror=alert(1)>',
      failover: { ...pass.failover, timeline },
    });
    expect(count(html, '<script')).toBe(0);
    expect(count(html, '<img')).toBe(0);
    expect(html).toContain(
      '&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &quot;quoted&quot; &amp; | pipe',
    );
    expect(html).toContain('data-step-id="x&quot;&gt;&lt;script&gt;1&lt;/script&gt;"');
  });

  test('GIVEN any result WHEN rendered THEN the document loads nothing from elsewhere', () => {
    const html = renderHtml(rpoFail, [pass]);
    expect(html).toContain(`default-src 'none'`);
    for (const reference of ['http://', 'https://', 'src=', '<link', '<script', '@import', 'url(']) {
      const allowed = reference === 'http://' ? count(html, 'http://www.w3.org/2000/svg') : 0;
      expect([reference, count(html, reference)]).toEqual([reference, allowed]);
    }
  });

  test('GIVEN the failing drill WHEN rendered THEN the RPO card reads FAIL with a negative margin and the headline FAIL', () => {
    const html = renderHtml(rpoFail);
    expect(html).toContain(
      '<header id="headline" data-testid="headline" data-passed="false" data-outcome="failed">',
    );
    expect(html).toContain('<div class="value" data-testid="rpo-measured">3.4s</div>');
    expect(html).toContain('<div class="margin negative" data-testid="rpo-margin">margin -2.4s</div>');
    expect(count(html, 'data-testid="gantt-bar"')).toBe(rpoFail.failover.timeline.length);
    expect(count(html, 'data-testid="canary-bar"')).toBe(rpoFail.canary?.series.length);
    expect(count(html, 'data-testid="canary-lost-region"')).toBe(1);
  });

  test('GIVEN no canary and no measurement WHEN rendered THEN the report still renders and says so', () => {
    const html = renderHtml({
      ...pass,
      canary: null,
      dataLoss: null,
      measured: { rtoMs: null, rpoMs: null },
      verdicts: [],
      restoredAt: null,
      passed: false,
      error: 'promotion timed out',
    });
    expect(html).toContain('No canary writes were recorded.');
    expect(html).toContain('data-testid="rto-measured">not measured<');
    expect(count(html, 'data-testid="trend-rto-point"')).toBe(0);
  });
});

describe('ganttChart', () => {
  test('GIVEN an RTO objective far beyond the restoration WHEN drawn THEN the bars keep their width and the window runs off the edge', () => {
    const fifteenMinutes = { ...pass.objectives, rtoMs: 900_000, rto: '15m' };
    const drill = { ...pass, objectives: fifteenMinutes };
    const svg = ganttChart(drill, stepRows(drill));
    expect(svg).toContain('RTO objective 15m →');
    const promote = svg.slice(svg.indexOf('data-step-id="promote-replica"'));
    const width = Number(promote.slice(promote.indexOf('width="') + 7, promote.indexOf('" height')));
    // 5.51 s of a ~13 s axis over ~566 px: well over 100 px, not the 3 px a 15-minute axis would leave.
    expect(width).toBeGreaterThan(100);
  });
});

describe('trendDrills', () => {
  test('GIVEN history with other runbooks and a duplicate WHEN selected THEN same runbook, each drill once, oldest first', () => {
    const older = { ...rpoFail, drillId: 'older', startedAt: '2026-10-01T00:00:00.000Z' };
    const other = { ...pass, drillId: 'other', runbookId: 'patient-portal-rds' };
    const drills = trendDrills(pass, [rpoFail, other, older, pass]);
    expect(drills.map((drill) => drill.drillId)).toEqual(['older', pass.drillId, rpoFail.drillId]);
  });
});

describe('trendChart', () => {
  const timed = (drill: DrillResult, id: string, startedAt: string, inEffectAt?: string): DrillResult => ({
    ...drill,
    drillId: id,
    startedAt,
    injection: { ...drill.injection, ...(inEffectAt === undefined ? {} : { inEffectAt }) },
  });

  test('GIVEN drills recorded before the injection start was timed WHEN drawn THEN their RTO points are hollow and no RTO line joins them to the others', () => {
    const earlier = timed(pass, 'earlier', '2026-09-01T00:00:00.000Z');
    const later = timed(rpoFail, 'later', '2026-10-01T00:00:00.000Z', '2026-10-01T00:00:10.580Z');
    const current = timed(pass, pass.drillId, pass.startedAt, '2026-11-27T08:15:10.580Z');
    const html = renderHtml(current, [earlier, later]);

    expect(count(html, 'data-testid="trend-rto-point"')).toBe(3);
    expect(count(html, 'class="point pass timed-from-return" data-testid="trend-rto-point"')).toBe(1);
    // The RPO was measured alike throughout: its points stay filled, one line joins all three.
    expect(count(html, 'timed-from-return" data-testid="trend-rpo-point"')).toBe(0);
    // The RTO line joins the two drills measured from the injection's start (before: all three).
    const lines = html.split('<polyline class="trend-line" points="').slice(1);
    expect(lines.map((line) => line.slice(0, line.indexOf('"')).split(' ').length)).toEqual([2, 3]);
    expect(html).toContain(
      'data-testid="trend-method-note">1 of the 3 RTOs charted was measured from the injection&#39;s return',
    );
  });

  test('GIVEN drills all measured alike WHEN drawn THEN one line joins them and no note is shown, old drills included', () => {
    const older = timed(rpoFail, 'older', '2026-10-01T00:00:00.000Z', '2026-10-01T00:00:10.580Z');
    const current = timed(pass, pass.drillId, pass.startedAt, '2026-11-27T08:15:10.580Z');
    const oldest = timed(rpoFail, 'oldest', '2026-08-01T00:00:00.000Z');
    const old = timed(pass, 'old', '2026-09-01T00:00:00.000Z');

    for (const html of [renderHtml(current, [older]), renderHtml(old, [oldest])]) {
      expect(count(html, 'timed-from-return" data-testid')).toBe(0);
      expect(count(html, '<polyline class="trend-line"')).toBe(2);
      expect(html).not.toContain('trend-method-note');
    }
  });

  test('GIVEN drills without an RTO in the trend WHEN the note counts THEN it counts only the RTOs charted', () => {
    const unmeasuredOld = {
      ...timed(pass, 'unmeasured-old', '2026-08-01T00:00:00.000Z'),
      measured: { rtoMs: null, rpoMs: null },
      verdicts: [],
    };
    const notInjected = {
      ...timed(pass, 'not-injected', '2026-09-01T00:00:00.000Z'),
      injection: { ...pass.injection, summary: NOT_INJECTED },
      measured: { rtoMs: null, rpoMs: null },
      verdicts: [],
    };
    const earlier = timed(pass, 'earlier', '2026-10-01T00:00:00.000Z');
    const current = timed(pass, pass.drillId, pass.startedAt, '2026-11-27T08:15:10.580Z');
    const html = renderHtml(current, [unmeasuredOld, notInjected, earlier]);

    expect(count(html, 'data-testid="trend-rto-point"')).toBe(2);
    expect(html).toContain('data-testid="trend-method-note">1 of the 2 RTOs charted was measured');
  });
});

describe('stepRows', () => {
  test('GIVEN a step still running WHEN rowed THEN no duration and no share', () => {
    const [first] = pass.failover.timeline;
    const running = { ...first!, status: 'running' as const, durationMs: undefined, endedAt: undefined };
    const rows = stepRows({ ...pass, criticalPath: [], failover: { ...pass.failover, timeline: [running] } });
    expect(rows[0]).toMatchObject({ durationMs: null, shareOfRto: null, startOffsetMs: 150 });
  });
});

describe('share of the RTO', () => {
  test('GIVEN a DNS step that ends after service was restored and a probe after it WHEN rows are made THEN each counts only its part before the restoration, and shares stay within 100%', () => {
    // rpoFail: injected T+0, restored T+14.4s (its measured RTO); switch-dns starts at T+11.19s.
    const timeline = rpoFail.failover.timeline.map((entry) =>
      entry.stepId === 'switch-dns'
        ? { ...entry, durationMs: 5_000, endedAt: '2026-11-27T14:02:57.720Z' }
        : entry.stepId === 'probe-writes'
          ? { ...entry, startedAt: '2026-11-27T14:02:57.720Z', endedAt: '2026-11-27T14:02:58.510Z' }
          : entry,
    );
    const rows = stepRows({ ...rpoFail, failover: { ...rpoFail.failover, timeline } });
    const byId = Object.fromEntries(rows.map((row) => [row.stepId, row]));
    // Before: 5s / 14.4s = 34.7%, and the probe (after the restoration) 5.5%, both "critical".
    expect(byId['switch-dns']?.shareOfRto).toBeCloseTo((14_400 - 11_190) / 14_400, 5);
    expect(byId['probe-writes']).toMatchObject({ shareOfRto: 0, critical: false });
    const onPath = rows.filter((row) => row.critical);
    expect(onPath.reduce((sum, row) => sum + (row.shareOfRto ?? 0), 0)).toBeLessThanOrEqual(1);
    // Of the parallel group, only the step it waited for is on the critical path.
    expect(byId['degraded-mode-on']?.critical).toBe(false);
    expect(byId['verify-backups']?.critical).toBe(true);
  });
});

describe('renderJson', () => {
  test('GIVEN the same result built in another key order WHEN rendered THEN the output is identical and parses back', () => {
    const shuffled = Object.fromEntries(Object.entries(pass).reverse()) as unknown as DrillResult;
    expect(renderJson(shuffled)).toBe(renderJson(pass));
    const { contingencyTest, ...recorded } = JSON.parse(renderJson(pass)) as Record<string, unknown>;
    expect(recorded).toEqual(pass);
    expect(contingencyTest).toMatchObject({ regulation: '45 CFR 164.308(a)(7)(ii)(D)', passed: true });
    expect(
      renderJson(pass).startsWith('{\n  "drillId": "drill-ehr-db-20261127-0815",\n  "runbookId": "ehr-db",'),
    ).toBe(true);
  });
});

describe('renderReport', () => {
  test.each(REPORT_FORMATS)('renders %s', (format) => {
    expect(renderReport(rpoFail, format, [pass]).length).toBeGreaterThan(200);
  });
});

describe('escaping', () => {
  test('markup: all five special characters', () => {
    expect(escapeMarkup(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
  test('markdown: emphasis, links and cells stay text', () => {
    expect(escapeMarkdown('*a* _b_ [c](d) |')).toBe('\\*a\\* \\_b\\_ \\[c\\](d) \\|');
  });
  test('markdown: terminal control characters are shown, not obeyed (drctl report prints to a terminal)', () => {
    // Before: ESC c (clear the screen) and backspaces reached stdout raw.
    const error = 'failover did not complete\u001bc\b\b\bok';
    const markdown = renderMarkdown({ ...rpoFail, error });
    expect(markdown).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(markdown).toContain('failover did not complete\\\\x1bc\\\\x08\\\\x08\\\\x08ok');
  });
});

/** A drill that injected and measured nothing (called off, refused), as it records itself. */
const nothingMeasured: DrillResult = {
  ...rpoFail,
  passed: false,
  measured: { rtoMs: null, rpoMs: null },
  restoredAt: null,
  dataLoss: null,
  injection: { action: 'fence-primary', injectedAt: rpoFail.startedAt, summary: NOT_INJECTED },
};

describe('a drill called off by an operator before the injection', () => {
  // As the drill records it (see test/fixtures/histories/drill-called-off.json): nothing injected or measured.
  const calledOff: DrillResult = {
    ...nothingMeasured,
    error: `the drill's failover ended before the failure was injected (aborted): the drill stopped, nothing was injected`,
    calledOff: {
      by: 'alice',
      at: '2026-11-27T08:15:30.000Z',
      reason: 'INC-4411: the real outage comes first',
    },
  };
  const sentence =
    'Called off by alice at 2026-11-27T08:15:30.000Z: INC-4411: the real outage comes first. Nothing was injected and nothing was measured.';

  test('GIVEN its result WHEN its outcome is named THEN it is called-off, not failed (as history and the search attribute name it)', () => {
    expect(drillOutcome(calledOff)).toBe('called-off');
    expect(drillOutcome({ ...calledOff, calledOff: undefined })).toBe('failed');
    expect(drillOutcome(pass)).toBe('passed');
  });

  test('GIVEN its result WHEN rendered THEN every view heads it CALLED OFF with who, when and why (before: FAIL)', () => {
    const markdown = renderMarkdown(calledOff);
    expect(
      markdown.startsWith(`# CALLED OFF: drill ${rpoFail.drillId} of runbook ehr-db\n\n> ${sentence}`),
    ).toBe(true);
    const html = renderHtml(calledOff);
    expect(html).toContain('data-passed="false" data-outcome="called-off"');
    expect(html).toContain(`CALLED OFF: drill of runbook`);
    expect(html).toContain(`<p class="called-off" data-testid="called-off">${sentence}</p>`);
    expect(renderDrillSummary(calledOff).split('\n').slice(0, 2)).toEqual([
      `${rpoFail.drillId}: CALLED OFF (runbook ehr-db, fence-primary)`,
      `  ${sentence}`,
    ]);
    expect(JSON.parse(renderJson(calledOff))).toMatchObject({ calledOff: calledOff.calledOff });
  });

  test('GIVEN its result WHEN the audit section, the HTML badge and JUnit render THEN none reads it as a failure (before: Overall FAIL, a red badge, two errors)', () => {
    const markdown = renderMarkdown(calledOff);
    expect(markdown).toContain('Overall: **CALLED OFF**');
    expect(markdown).toContain(`${sentence} Run the drill again to test the objectives.`);
    expect(markdown).not.toContain('repeat the drill');
    expect(markdown).toMatch(/\| RTO \| 30s \| [^|]+ \| \*\*NOT TESTED \(called off\)\*\* \|/);
    const html = renderHtml(calledOff);
    expect(html).toContain(
      '<h1><span class="badge na" data-testid="badge">CALLED OFF</span> CALLED OFF: drill of runbook',
    );
    expect(html).toContain('<p>Overall: <strong>CALLED OFF</strong></p>');
    const junit = renderJunit(calledOff);
    expect(junit).toContain('failures="0" errors="0" skipped="2"');
    expect(count(junit, `<skipped message="${sentence}"/>`)).toBe(2);
    expect(junit).not.toContain('<error');
  });
});

describe('a drill refused at its start (another run took its lock as it started: a scheduled drill, or a race with drctl’s check)', () => {
  // As the drill records it: nothing injected or measured, the lock's holder named.
  const refusal = 'another run of ehr-db holds its lock failover-ehr-db (a failover, failback or drill)';
  const refused: DrillResult = {
    ...nothingMeasured,
    error: `${refusal}; nothing was injected`,
    refusal,
  };
  const sentence = `Refused at its start: ${refusal}. Nothing was injected and nothing was measured.`;

  test('GIVEN its result WHEN its outcome is named THEN it is refused, not failed; drctl drill run --follow exits 4 as for a busy runbook (before: failed, exit 1)', () => {
    expect(drillOutcome(refused)).toBe('refused');
    expect(drillOutcome({ ...refused, refusal: undefined })).toBe('failed');
    expect(drillRunExitCode(refused)).toBe(ExitCode.Refused);
    expect(drillRunExitCode(rpoFail)).toBe(ExitCode.Failed);
    expect(drillRunExitCode(pass)).toBe(ExitCode.Ok);
  });

  test('GIVEN its result WHEN rendered THEN every view heads it REFUSED and says why, and none counts a failure (before: FAIL, a red badge, two JUnit errors)', () => {
    const markdown = renderMarkdown(refused);
    expect(
      markdown.startsWith(`# REFUSED: drill ${rpoFail.drillId} of runbook ehr-db\n\n> ${sentence}`),
    ).toBe(true);
    expect(markdown).toContain('Overall: **REFUSED**');
    expect(markdown).toMatch(/\| RTO \| 30s \| [^|]+ \| \*\*NOT TESTED \(refused\)\*\* \|/);
    expect(markdown).toContain(`${sentence} Run the drill again to test the objectives.`);
    expect(markdown).toContain(`> Drill stopped: ${refusal}; nothing was injected`);
    const html = renderHtml(refused);
    expect(html).toContain('data-passed="false" data-outcome="refused"');
    expect(html).toContain(
      '<h1><span class="badge na" data-testid="badge">REFUSED</span> REFUSED: drill of runbook',
    );
    expect(html).toContain(`<p class="called-off" data-testid="called-off">${sentence}</p>`);
    expect(html).not.toContain('class="error"');
    const junit = renderJunit(refused);
    expect(junit).toContain('failures="0" errors="0" skipped="2"');
    expect(count(junit, `<skipped message="${sentence}"/>`)).toBe(2);
    expect(renderDrillSummary(refused).split('\n').slice(0, 2)).toEqual([
      `${rpoFail.drillId}: REFUSED (runbook ehr-db, fence-primary)`,
      `  ${sentence}`,
    ]);
    expect(JSON.parse(renderJson(refused))).toMatchObject({ refusal });
  });
});

describe('a drill in which a break-glass key was used', () => {
  const use = {
    action: 'approve',
    keyId: 'breakglass-1',
    holder: 'security-office',
    reason: 'approvers unreachable <b>',
    at: '2026-11-27T08:15:12.000Z',
    stepId: 'fence-primary',
  };
  const withBreakGlass: DrillResult = {
    ...pass,
    failover: {
      ...pass.failover,
      authorization: {
        policySha256: 'a'.repeat(64),
        runbookId: 'ehr-db',
        runbookHash: pass.runbookHash,
        breakGlassUses: [use],
      },
    },
  };

  test('GIVEN the use WHEN rendered as Markdown and HTML THEN both say it, with who held the key and why', () => {
    expect(renderMarkdown(withBreakGlass)).toContain(
      '- **BREAK-GLASS**: approve `fence-primary` by `breakglass-1` (held by security-office) at 2026-11-27T08:15:12.000Z: approvers unreachable &lt;b&gt;',
    );
    // Before: the HTML report, the one auditors get, never mentioned it.
    expect(renderHtml(withBreakGlass)).toContain(
      '<dt>BREAK-GLASS</dt><dd><strong data-testid="break-glass">approve <code>fence-primary</code> by <code>breakglass-1</code> (held by security-office) at <time>2026-11-27T08:15:12.000Z</time>: approvers unreachable &lt;b&gt;</strong></dd>',
    );
    expect(renderHtml(pass)).not.toContain('BREAK-GLASS');
  });
});
