/**
 * The drill as JUnit XML, so CI shows a missed objective as a failed test: one testsuite per drill, one testcase
 * per objective. A missed objective is a <failure> carrying measured, target and margin; one the drill could not
 * measure is an <error>; every objective of a drill called off before its injection, or refused at its start, is
 * <skipped> (nothing was tested, nothing failed).
 */
import { formatMs } from '../runbooks/duration';
import { untestedSentence, type DrillResult } from '../workflows/drill-types';
import { escapeMarkup as esc } from './escape';
import { formatSignedMs, msBetween } from './format';
import { objectiveRows, type ObjectiveRow } from './objective-rows';

export function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** Machine-readable numbers, the same on a pass and on a failure. */
function numbers(row: ObjectiveRow): string {
  const ms = (value: number | null): string => (value === null ? 'none' : `${value}ms`);
  return `measured=${ms(row.measuredMs)} target=${ms(row.targetMs)} margin=${ms(row.marginMs)}`;
}

function testcase(result: DrillResult, row: ObjectiveRow): string {
  const name = `${row.objective} within ${formatMs(row.targetMs)}`;
  // A testcase's time is a duration CI sums: the RTO is one (time to restore), the RPO is not.
  const time = row.objective === 'RTO' ? (row.measuredMs ?? 0) : 0;
  const open = `<testcase classname="drill.${esc(result.runbookId)}" name="${esc(name)}" time="${seconds(time)}">`;
  const untested = untestedSentence(result);
  if (untested !== undefined) {
    return `    ${open}
      <skipped message="${esc(untested)}"/>
    </testcase>`;
  }
  if (row.passed === true) {
    return `    ${open}
      <system-out>${esc(numbers(row))}</system-out>
    </testcase>`;
  }
  if (row.notMeasurable !== undefined) {
    // N/A: the drill has no way to measure it, so it is not tested; not a measurement that went wrong.
    return `    ${open}
      <skipped message="${esc(`${row.objective} not measurable: ${row.notMeasurable}`)}"/>
    </testcase>`;
  }
  if (!wasMeasured(row)) {
    const why = result.error ?? 'the drill ended before this objective was measured';
    return `    ${open}
      <error type="NotMeasured" message="${esc(`${row.objective} not measured: ${why}`)}">${esc(why)}</error>
    </testcase>`;
  }
  const message = `${row.objective} ${formatMs(row.measuredMs)} exceeds objective ${formatMs(
    row.targetMs,
  )} (margin ${formatSignedMs(row.marginMs)})`;
  return `    ${open}
      <failure type="ObjectiveMissed" message="${esc(message)}">${esc(numbers(row))}</failure>
    </testcase>`;
}

/** Met or missed, with its figures; otherwise not measured (an <error>). */
function wasMeasured(
  row: ObjectiveRow,
): row is ObjectiveRow & { measuredMs: number; marginMs: number; passed: boolean } {
  return row.passed !== null && row.measuredMs !== null && row.marginMs !== null;
}

/** How many objectives missed (<failure>), were not measured (<error>), or were not tested at all (<skipped>). */
function counts(
  result: DrillResult,
  rows: readonly ObjectiveRow[],
): { failures: number; errors: number; skipped: number } {
  if (untestedSentence(result) !== undefined) return { failures: 0, errors: 0, skipped: rows.length };
  const measured = rows.filter(wasMeasured);
  const notMeasurable = rows.filter((row) => row.notMeasurable !== undefined).length;
  return {
    failures: measured.filter((row) => !row.passed).length,
    errors: rows.length - measured.length - notMeasurable,
    skipped: notMeasurable,
  };
}

/** The `<testsuite>` of one drill: one testcase per objective, its identity as properties. */
export function drillTestsuite(result: DrillResult, name = `drill ${result.drillId}`): string {
  const rows = objectiveRows(result);
  const { failures, errors, skipped } = counts(result, rows);
  const properties: Array<[string, string]> = [
    ['drillId', result.drillId],
    ['runbookId', result.runbookId],
    ['runbookHash', result.runbookHash],
    ['reason', result.reason],
    ['initiator', result.initiator],
    ['injection', `${result.injection.action} at ${result.injection.injectedAt}`],
    ['failoverWorkflowId', result.failover.workflowId],
  ];
  const duration = msBetween(result.startedAt, result.endedAt);
  return `  <testsuite name="${esc(name)}" tests="${rows.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" timestamp="${esc(
    result.startedAt,
  )}" time="${seconds(duration)}">
    <properties>
${properties.map(([key, value]) => `      <property name="${esc(key)}" value="${esc(value)}"/>`).join('\n')}
    </properties>
${rows.map((row) => testcase(result, row)).join('\n')}
  </testsuite>`;
}

export function renderJunit(result: DrillResult): string {
  const rows = objectiveRows(result);
  const { failures, errors } = counts(result, rows);
  const duration = msBetween(result.startedAt, result.endedAt);
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="drctl drills" tests="${rows.length}" failures="${failures}" errors="${errors}" time="${seconds(
    duration,
  )}">
${drillTestsuite(result)}
</testsuites>
`;
}
