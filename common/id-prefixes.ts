/** `drill-ehr-db-2026…` → every id it starts with up to a dash, and itself: a schedule's runs extend its id. */
export function idPrefixes(workflowId: string): string[] {
  const parts = workflowId.split('-');
  return parts.map((_, index) => parts.slice(0, index + 1).join('-'));
}
