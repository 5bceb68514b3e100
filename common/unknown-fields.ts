import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

/**
 * zod's parse-time message hook (`safeParse(input, { error: unknownFieldMessage })`): an unknown field is answered
 * with the fields allowed where it stands, and the one meant when it is a near miss (`databse`: did you mean
 * "database"?). Only the parse knows the object schema that refused it; the finished issue keeps just the keys.
 */
export function unknownFieldMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  return unknownFields(issue.keys, shape === undefined ? undefined : Object.keys(shape));
}

/** `unknown field x; did you mean "y"?; allowed here: …` for `keys` where `allowed` are the fields (if known). */
export function unknownFields(keys: readonly string[], allowed: readonly string[] | undefined): string {
  const named = `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  if (allowed === undefined) return named;
  const meant = keys.flatMap((key) => {
    const near = nearMiss(key, allowed);
    return near === undefined ? [] : [keys.length > 1 ? `"${near}" (for ${key})` : `"${near}"`];
  });
  const hint = meant.length === 0 ? '' : `; did you mean ${meant.join(', ')}?`;
  return `${named}${hint}; allowed here: ${allowed.join(', ')}`;
}

/** The candidate `value` is a near miss of (a typo, a swapped letter), if any. */
export function nearMiss(value: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const nearest = closest(value, [...candidates]);
  return distance(value, nearest) <= Math.max(1, Math.floor(nearest.length / 4)) ? nearest : undefined;
}
