/**
 * Route 53 answers with fully qualified, lower-case names ending in a dot; runbooks may omit the dot. Compare
 * and send names only in this form.
 */
export function fqdn(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** Record values compare without case and trailing dot (a CNAME target may come back with or without one). */
export function sameRecordValue(a: string, b: string): boolean {
  return stripDot(a.trim().toLowerCase()) === stripDot(b.trim().toLowerCase());
}

function stripDot(value: string): string {
  return value.endsWith('.') ? value.slice(0, -1) : value;
}

/** A stable label for a record in messages, plans and facts: `A ehr-db.sandbox.drctl.internal.`. */
export function recordLabel(type: string, name: string): string {
  return `${type} ${fqdn(name)}`;
}
