import { stepKind } from '../kinds/registry';
import type { RecordedFailover } from '../kinds/step-kind';
import { databaseProvider } from '../providers/database/registry';
import { defineRunbook } from './define-runbook';
import type { DatabaseTarget, LeafStep, Runbook, Step } from './schema';

export { FailbackUnsupportedError } from './failback-unsupported-error';

/**
 * The way back from a failover, derived from the runbook itself: each database provider swaps its members
 * (or says why it cannot), and each step kind gives its counterpart (flags back to the values the failover run
 * recorded before changing them, backups dropped, DNS follows the promoted member). Without a recorded run, flag
 * steps are dropped: drctl does not guess what the flags were.
 */
export function failbackRunbook(
  runbook: Runbook,
  recorded: RecordedFailover = { flagsBefore: new Map() },
): Runbook {
  const databases: Record<string, DatabaseTarget> = {};
  for (const [name, target] of Object.entries(runbook.targets.databases)) {
    databases[name] = databaseProvider(target.provider).failback(name, target) as DatabaseTarget;
  }
  return defineRunbook({
    id: `${runbook.id}-failback`,
    title: `Fail back: ${runbook.title}`,
    owner: runbook.owner,
    description:
      `Derived from ${runbook.id}: promote the original primary again (rebuilt as a replica), DNS back, ` +
      `flags back to their values before ${recorded.run === undefined ? 'the failover' : `failover ${recorded.run}`}.`,
    objectives: runbook.objectives,
    // Going back is deliberate, with both members healthy: fenced, and promoted without loss.
    mode: 'planned',
    targets: { databases },
    steps: runbook.steps.flatMap((step) => reverseStep(step, recorded)),
  });
}

function reverseStep(step: Step, recorded: RecordedFailover): Step[] {
  if (step.kind !== 'parallel') return reverseLeaf(step, recorded);
  const inner = step.steps.flatMap((leaf) => reverseLeaf(leaf, recorded));
  if (inner.length === 0) return [];
  return inner.length === 1 ? inner : [{ ...step, steps: inner }];
}

function reverseLeaf(step: LeafStep, recorded: RecordedFailover): LeafStep[] {
  return stepKind(step.kind).failback(step, recorded) as LeafStep[];
}
