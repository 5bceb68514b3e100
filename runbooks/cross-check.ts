import { STEP_KIND_NAMES, stepKind } from '../kinds/registry';
import type { RunbookIssue } from './runbook-validation-error';
import type { LeafStep, Runbook } from './schema';
import { NAME_PATTERN } from './schema-parts';

/** Every leaf step with its path, parallel groups flattened in order. */
export function leafSteps(runbook: Runbook): Array<{ step: LeafStep; path: string }> {
  return runbook.steps.flatMap((step, index) =>
    step.kind === 'parallel'
      ? step.steps.map((inner, innerIndex) => ({ step: inner, path: `steps[${index}].steps[${innerIndex}]` }))
      : [{ step, path: `steps[${index}]` }],
  );
}

/**
 * A leaf step as the cross-checks see it: parsed (`step`), or refused by the schema (`unread`, its data as
 * written), when only what does not hang on its other fields is checked: its id, and what it fences or promotes.
 */
export type CheckedLeaf = { path: string } & ({ step: LeafStep } | { unread: unknown });

/** A step of the runbook's list: one leaf, or a parallel group (`groupId` as written) of leaves. */
export interface CheckedStep {
  path: string;
  groupId?: unknown;
  leaves: CheckedLeaf[];
}

/** The steps of a runbook that passed the schema, as the cross-checks walk them. */
function checkedSteps(runbook: Runbook): CheckedStep[] {
  return runbook.steps.map((step, index) =>
    step.kind === 'parallel'
      ? {
          path: `steps[${index}]`,
          groupId: step.id,
          leaves: step.steps.map((inner, innerIndex) => ({
            step: inner,
            path: `steps[${index}].steps[${innerIndex}]`,
          })),
        }
      : { path: `steps[${index}]`, leaves: [{ step, path: `steps[${index}]` }] },
  );
}

/**
 * Checks that span fields, once the schema passed: ids unique across the runbook (groups included), then each
 * kind's own cross-checks, which may ask what earlier steps fenced or promoted (a group's count only after the
 * group, since they may not have finished when a sibling runs).
 */
export function crossCheck(runbook: Runbook): RunbookIssue[] {
  return crossCheckSteps(runbook, checkedSteps(runbook));
}

/**
 * The cross-checks over `steps`, which may hold steps the schema refused (see `CheckedLeaf`): a runbook with
 * several problems gets them all in one report. A refused step's own checks are skipped, and so are the kind
 * checks of a step that names a database whose target the schema refused (`unreadDatabases`; `'all'` when the
 * targets could not be read at all): they would report what is only the other problem's consequence. A refused
 * step that may have fenced or promoted a database it does not name readably counts as having fenced or promoted
 * any, so no later step is refused for an order it may well have.
 */
export function crossCheckSteps(
  runbook: Runbook,
  steps: readonly CheckedStep[],
  unreadDatabases: ReadonlySet<string> | 'all' = new Set(),
): RunbookIssue[] {
  const issues: RunbookIssue[] = [];
  const seenIds = new Map<string, string>();
  let promotedBefore: Set<string> = new Set<string>();
  let fencedBefore: Set<string> = new Set<string>();
  const claim = (id: unknown, path: string) => {
    // An id the schema refused is its problem alone; two ids alike are a problem of their own.
    if (typeof id !== 'string' || !NAME_PATTERN.test(id)) return;
    const earlier = seenIds.get(id);
    if (earlier !== undefined)
      issues.push({ path: `${path}.id`, message: `"${id}" is already used by ${earlier}` });
    else seenIds.set(id, path);
  };

  for (const { path, groupId, leaves } of steps) {
    if (groupId !== undefined) claim(groupId, path);
    for (const leaf of leaves) {
      if (!('step' in leaf)) {
        claim((leaf.unread as { id?: unknown } | undefined)?.id, leaf.path);
        continue;
      }
      claim(leaf.step.id, leaf.path);
      if (namesDatabase(leaf.step, unreadDatabases)) continue;
      for (const issue of stepKind(leaf.step.kind).crossCheck(leaf.step, {
        runbook,
        promotedBefore,
        fencedBefore,
      })) {
        issues.push({ path: `${leaf.path}${issue.path}`, message: issue.message });
      }
    }
    for (const leaf of leaves) {
      for (const { kind, database } of databasesChanged(leaf)) {
        const before = kind === 'database.promote' ? promotedBefore : fencedBefore;
        const after = database === undefined ? new AnyName() : before.add(database);
        if (kind === 'database.promote') promotedBefore = after;
        else fencedBefore = after;
      }
    }
  }
  return issues;
}

/**
 * What a leaf fences or promotes (`database` undefined: it cannot be read, so any). A refused step of no known
 * kind (a misspelt one) may be either: the next validation, with its kind fixed, checks the order.
 */
function databasesChanged(
  leaf: CheckedLeaf,
): Array<{ kind: 'database.promote' | 'database.fence'; database?: string }> {
  const { kind, database } = ('step' in leaf ? leaf.step : (leaf.unread ?? {})) as {
    kind?: unknown;
    database?: unknown;
  };
  const named = typeof database === 'string' ? { database } : {};
  if (kind === 'database.promote' || kind === 'database.fence') return [{ kind, ...named }];
  if ('step' in leaf || (typeof kind === 'string' && STEP_KIND_NAMES.includes(kind))) return [];
  return [
    { kind: 'database.fence', ...named },
    { kind: 'database.promote', ...named },
  ];
}

/** True when a `database` field anywhere in `value` names one of `databases`. */
function namesDatabase(value: unknown, databases: ReadonlySet<string> | 'all'): boolean {
  if (databases !== 'all' && databases.size === 0) return false;
  if (Array.isArray(value)) return value.some((item) => namesDatabase(item, databases));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, field]) =>
    key === 'database' && typeof field === 'string'
      ? databases === 'all' || databases.has(field)
      : namesDatabase(field, databases),
  );
}

/** Every database, for a step after one the schema refused that may have changed any: its checks stay quiet. */
class AnyName extends Set<string> {
  override has(): boolean {
    return true;
  }
}
