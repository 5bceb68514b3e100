/**
 * Every value a DNS record change sets: `values` when it names several (the undo of a record that held more than
 * one, such as an A record of two addresses), else its one `value`.
 */
export function recordValues(record: { value: string; values?: readonly string[] }): string[] {
  return record.values !== undefined && record.values.length > 0 ? [...record.values] : [record.value];
}

/** Whether a record holds exactly `wanted`, in any order, each value compared by `same`. */
export function holdsValues(
  held: readonly string[],
  wanted: readonly string[],
  same: (a: string, b: string) => boolean,
): boolean {
  if (held.length !== wanted.length) return false;
  const unmatched = [...held];
  return wanted.every((value) => {
    const index = unmatched.findIndex((candidate) => same(candidate, value));
    if (index < 0) return false;
    unmatched.splice(index, 1);
    return true;
  });
}

/** `values` for a change that sets more than one (the undo of a record that held several), else nothing. */
export function valuesIfSeveral(record: { values?: readonly string[] }): { values?: string[] } {
  return record.values !== undefined && record.values.length > 1 ? { values: [...record.values] } : {};
}
