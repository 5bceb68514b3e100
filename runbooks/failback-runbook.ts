import { stepKind } from '../kinds/registry';
import { databaseProvider } from '../providers/database/registry';
import { defineRunbook } from './define-runbook';
import type { DatabaseTarget, LeafStep, Runbook, Step } from './schema';

export { FailbackUnsupportedError } from './failback-unsupported-error';

/**
 * The way back from a failover, derived from the runbook itself: each database provider swaps its members
 * (or says why it cannot), and each step kind gives its counterpart (flags back, backups dropped, DNS follows
 * the promoted member).
 */
export function failbackRunbook(runbook: Runbook): Runbook {
  const databases: Record<string, DatabaseTarget> = {};
  for (const [name, target] of Object.entries(runbook.targets.databases)) {
    databases[name] = databaseProvider(target.provider).failback(name, target) as DatabaseTarget;
  }
  return defineRunbook({
    id: `${runbook.id}-failback`,
    title: `Fail back: ${runbook.title}`,
    owner: runbook.owner,
    description: `Derived from ${runbook.id}: promote the original primary again (rebuilt as a replica), DNS back, flags back.`,
    objectives: runbook.objectives,
    // Going back is deliberate, with both members healthy: fenced, and promoted without loss.
    mode: 'planned',
    targets: { databases },
    steps: runbook.steps.flatMap(reverseStep),
  });
}

function reverseStep(step: Step): Step[] {
  if (step.kind !== 'parallel') return reverseLeaf(step);
  const inner = step.steps.flatMap(reverseLeaf);
  if (inner.length === 0) return [];
  return inner.length === 1 ? inner : [{ ...step, steps: inner }];
}

function reverseLeaf(step: LeafStep): LeafStep[] {
  return stepKind(step.kind).failback(step) as LeafStep[];
}
