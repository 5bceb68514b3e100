/**
 * The retention rule for evidence: HIPAA keeps required documentation six years from its creation
 * (45 CFR 164.316(b)(2)(i)), so every object is locked in COMPLIANCE mode (no one, root included, can shorten
 * or remove the lock) until at least six calendar years after the bundle was written.
 */
export const MINIMUM_RETENTION_YEARS = 6;

/** `from` plus whole calendar years, in UTC (29 February rolls to 1 March). */
export function addYears(from: Date, years: number): Date {
  const result = new Date(from.getTime());
  result.setUTCFullYear(result.getUTCFullYear() + years);
  return result;
}

/** The retain-until date the writer sets: the policy's years plus a day, so clock skew never lands short. */
export function retainUntilFor(createdAt: Date, years: number): Date {
  return new Date(addYears(createdAt, years).getTime() + 24 * 3_600_000);
}
