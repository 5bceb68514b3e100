/** Drill reports: one drill result rendered for people (Markdown, HTML), for CI (JUnit) or as its JSON source. */
import type { DrillResult } from '../workflows/drill-types';
import { isEvacuationDrill, type EvacuationDrillResult } from '../workflows/evacuation-drill-types';
import { renderEvacuationDrillReport } from './render-evacuation-drill';
import { renderHtml } from './render-html';
import { renderJson } from './render-json';
import { renderJunit } from './render-junit';
import { renderMarkdown } from './render-markdown';
import type { AuditContext } from './audit-mapping';
import type { ReportFormat } from './report-formats';

export { REPORT_EXTENSIONS, REPORT_FORMATS, isReportFormat, type ReportFormat } from './report-formats';

/**
 * `history`: earlier results of the same runbook; only the HTML report uses it (the trend chart). `audit`: the
 * failover's recorded operator actions and a signature check, for the contingency-test section. A drill of an
 * evacuation renders each service with its own failover's recorded actions.
 */
export function renderReport(
  result: DrillResult | EvacuationDrillResult,
  format: ReportFormat,
  history: readonly DrillResult[] = [],
  audit: AuditContext = {},
): string {
  if (isEvacuationDrill(result)) return renderEvacuationDrillReport(result, format);
  switch (format) {
    case 'md':
      return renderMarkdown(result, audit);
    case 'html':
      return renderHtml(result, history, audit);
    case 'json':
      return renderJson(result, audit);
    case 'junit':
      return renderJunit(result);
  }
}

export { renderHtml, renderJson, renderJunit, renderMarkdown };
export { buildAuditMapping, type AuditContext, type AuditMapping } from './audit-mapping';
