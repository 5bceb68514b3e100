/**
 * Whether a runbook id matches a policy pattern: an exact id, or a glob where `*` stands for any run of
 * characters (`ehr-*`, `*`). Nothing else is special, so ids and patterns stay easy to read in review.
 */
export function runbookMatches(pattern: string, runbookId: string): boolean {
  const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`).test(runbookId);
}
