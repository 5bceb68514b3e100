/**
 * The drill result as pretty JSON: the source of truth the other formats render. Keys come out in a stable order
 * whatever order the result was built in, so two reports of the same drill diff cleanly.
 */
import type { DrillResult } from '../workflows/drill-types';
import { buildAuditMapping, type AuditContext } from './audit-mapping';

// The result's own fields in the order a reader wants them (identity, verdict, measurements, detail);
// `satisfies` keeps the list complete when DrillResult gains a field.
const TOP_LEVEL_ORDER = [
  'drillId',
  'runbookId',
  'runbookHash',
  'passed',
  'calledOff',
  'refusal',
  'verdicts',
  'objectives',
  'measured',
  'reason',
  'initiator',
  'startedAt',
  'endedAt',
  'injection',
  'restoredAt',
  'restoredBy',
  'dataLoss',
  'canary',
  'criticalPath',
  'failover',
  'authorization',
  'operatorActions',
  'environment',
  'error',
] as const satisfies readonly (keyof DrillResult)[];

type MissingKey = Exclude<keyof DrillResult, (typeof TOP_LEVEL_ORDER)[number]>;
// Fails to compile when a DrillResult field is missing from TOP_LEVEL_ORDER.
const everyKeyListed: MissingKey extends never ? true : MissingKey = true;
void everyKeyListed;

/** Nested objects: keys sorted; arrays keep their order (timelines and series are ordered data). */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(source)
        .sort()
        .map((key) => [key, sortedKeys(source[key])]),
    );
  }
  return value;
}

/**
 * `source`'s fields in `order`, then any others sorted; absent ones left out. Each value goes through `value`
 * (default: nested keys sorted).
 */
export function inOrder(
  source: object,
  order: readonly string[],
  value: (key: string, field: unknown) => unknown = (_key, field) => sortedKeys(field),
): Record<string, unknown> {
  const fields = source as Record<string, unknown>;
  const known = new Set<string>(order);
  const keys = [
    ...order,
    ...Object.keys(fields)
      .filter((key) => !known.has(key))
      .sort(),
  ];
  return Object.fromEntries(
    keys.filter((key) => fields[key] !== undefined).map((key) => [key, value(key, fields[key])]),
  );
}

/** The result, then `contingencyTest`: the audit mapping (45 CFR 164.308(a)(7)(ii)(D)) derived from it. */
export function renderJson(result: DrillResult, audit: AuditContext = {}): string {
  const ordered = inOrder(result, TOP_LEVEL_ORDER);
  return `${JSON.stringify({ ...ordered, contingencyTest: buildAuditMapping(result, audit) }, null, 2)}\n`;
}
