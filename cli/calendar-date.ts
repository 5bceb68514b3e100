/**
 * A date an operator typed: `2026-11-01` or an ISO timestamp (`2026-11-01T09:00:00Z`). Undefined for anything else,
 * and for a day the calendar does not have: JavaScript reads `2026-02-30` as 2 March, a silent shift of a filter.
 */
export function parseCalendarDate(value: string): Date | undefined {
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (day === null) return undefined;
  const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
  const calendar = new Date(Date.UTC(year, month - 1, date));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== date) return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}
