/** The HTML report's stylesheet, inlined so the document stands alone (printable, attachable, offline). */
export const HTML_STYLE = `
:root { --pass: #1a7f37; --fail: #cf222e; --muted: #57606a; --line: #d0d7de; --window: #ddf4ff; --lost: #ffebe9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto; max-width: 820px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted, .meta { color: var(--muted); }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; font-weight: 700; color: #fff; font-size: 12px; letter-spacing: .04em; vertical-align: middle; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); } .badge.na { background: var(--muted); }
.objectives { display: flex; gap: 16px; margin-top: 16px; }
.objective { flex: 1; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
.objective.fail { border-color: var(--fail); }
.objective .value { font-size: 28px; font-weight: 700; }
.objective .margin.negative { color: var(--fail); font-weight: 700; } .objective .margin.positive { color: var(--pass); }
.error { border-left: 4px solid var(--fail); background: var(--lost); padding: 8px 12px; }
.called-off { border-left: 4px solid var(--muted); padding: 8px 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
code { font-size: 12px; }
td.step { min-width: 150px; } td.step code { white-space: nowrap; } td.outcome { overflow-wrap: anywhere; }
svg { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg .grid { stroke: #eaeef2; } svg .axis { stroke: var(--muted); }
svg .tick, svg .step-label, svg .window-label, svg .marker-label, svg .panel-title { fill: var(--muted); }
svg .step-label, svg .panel-title { fill: #1f2328; }
svg .rto-window { fill: var(--window); }
svg .bar { fill: #8c959f; } svg .bar.critical { fill: #0969da; } svg .bar.failed { fill: var(--fail); } svg .bar.running { fill: #bf8700; }
svg .marker { stroke-width: 2; } svg .injection { stroke: var(--fail); } svg .restored { stroke: var(--pass); } svg .newest-present { stroke: #8250df; stroke-dasharray: 4 2; }
svg .canary-bar { fill: #0969da; } svg .lost { fill: var(--lost); stroke: var(--fail); stroke-dasharray: 3 2; }
svg .objective-line { stroke: var(--fail); stroke-dasharray: 5 3; } svg .trend-line { fill: none; stroke: #8c959f; }
svg .point.pass { fill: var(--pass); } svg .point.fail { fill: var(--fail); } svg .point.current { stroke: #1f2328; stroke-width: 2; } svg .point.timed-from-return { fill: #ffffff; stroke-width: 2; } svg .point.pass.timed-from-return { stroke: var(--pass); } svg .point.fail.timed-from-return { stroke: var(--fail); } svg .point.current.timed-from-return { stroke: #1f2328; }
@media print { body { padding: 0; } }
`;
