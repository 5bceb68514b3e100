/** The formats a drill report renders to, apart from the renderers (the CLI lists them without loading those). */
export const REPORT_FORMATS = ['md', 'html', 'json', 'junit'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/** File extension for each format, for a command that writes the report to a file. */
export const REPORT_EXTENSIONS: Record<ReportFormat, string> = {
  md: 'md',
  html: 'html',
  json: 'json',
  junit: 'xml',
};
