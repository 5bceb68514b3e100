import { stepKind } from '../kinds/registry';
import type { RunbookIssue } from './runbook-validation-error';
import type { LeafStep, Runbook } from './schema';

/** Every leaf step with its path, parallel groups flattened in order. */
export function leafSteps(runbook: Runbook): Array<{ step: LeafStep; path: string }> {
  return runbook.steps.flatMap((step, index) =>
    step.kind === 'parallel'
      ? step.steps.map((inner, innerIndex) => ({ step: inner, path: `steps[${index}].steps[${innerIndex}]` }))
      : [{ step, path: `steps[${index}]` }],
  );
}

/**
 * Checks that span fields, once the schema passed: ids unique across the runbook (groups included), then each
 * kind's own cross-checks, which may ask what earlier steps fenced or promoted (a group's count only after the
 * group, since they may not have finished when a sibling runs).
 */
export function crossCheck(runbook: Runbook): RunbookIssue[] {
  const issues: RunbookIssue[] = [];
  const seenIds = new Map<string, string>();
  const promotedBefore = new Set<string>();
  const fencedBefore = new Set<string>();
  const claim = (id: string, path: string) => {
    const earlier = seenIds.get(id);
    if (earlier !== undefined)
      issues.push({ path: `${path}.id`, message: `"${id}" is already used by ${earlier}` });
    else seenIds.set(id, path);
  };

  runbook.steps.forEach((step, index) => {
    const group =
      step.kind === 'parallel'
        ? step.steps.map((inner, innerIndex) => ({
            step: inner,
            path: `steps[${index}].steps[${innerIndex}]`,
          }))
        : [{ step, path: `steps[${index}]` }];
    if (step.kind === 'parallel') claim(step.id, `steps[${index}]`);
    for (const leaf of group) {
      claim(leaf.step.id, leaf.path);
      for (const issue of stepKind(leaf.step.kind).crossCheck(leaf.step, {
        runbook,
        promotedBefore,
        fencedBefore,
      })) {
        issues.push({ path: `${leaf.path}${issue.path}`, message: issue.message });
      }
    }
    for (const leaf of group) {
      if (leaf.step.kind === 'database.promote') promotedBefore.add(leaf.step.database);
      if (leaf.step.kind === 'database.fence') fencedBefore.add(leaf.step.database);
    }
  });
  return issues;
}
