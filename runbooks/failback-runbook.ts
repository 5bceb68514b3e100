import { stepKind } from '../kinds/registry';
import type { FailbackContext, RecordedFailover } from '../kinds/step-kind';
import { databaseProvider } from '../providers/database/registry';
import { FAILBACK_SUFFIX } from '../common/run-lock';
import { defineRunbook } from './define-runbook';
import { FailbackUnsupportedError } from './failback-unsupported-error';
import type { DatabaseTarget, LeafStep, Runbook, Step } from './schema';

export { FailbackUnsupportedError } from './failback-unsupported-error';

/**
 * The way back from a failover, derived from the runbook itself: each database provider swaps its members
 * (or says why it cannot), and each step kind gives its counterpart (flags and literal DNS records back to what
 * the failover run read before changing them, backups dropped, DNS that points at a member follows the promoted
 * one). Without a recorded run, flag steps and literal DNS records are dropped: drctl does not guess what they were.
 */
export function failbackRunbook(
  runbook: Runbook,
  recorded: RecordedFailover = { flagsBefore: new Map() },
): Runbook {
  const { id, databases } = failbackTarget(runbook);
  const promotedBefore = new Set<string>();
  const steps = runbook.steps.flatMap((step) => {
    const reversed = reverseStep(step, recorded, { databases, promotedBefore });
    // As the runbook's cross-check counts them: a parallel group's promotions only after the group.
    for (const leaf of reversed.flatMap((s) => (s.kind === 'parallel' ? s.steps : [s])))
      if (leaf.kind === 'database.promote') promotedBefore.add(leaf.database);
    return reversed;
  });
  const leaves = steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  if (!leaves.some((leaf) => stepKind(leaf.kind).mutates))
    throw new FailbackUnsupportedError(
      `the failback of ${runbook.id} would change nothing: it promotes no database, and ${recorded.run === undefined ? 'no failover run is known, so it puts back no flag or DNS record' : `failover ${recorded.run} recorded no flag or DNS record it can put back`}; restore them by hand, or name another failover with --from-run`,
    );
  return defineRunbook({
    id,
    title: `Fail back: ${runbook.title}`,
    owner: runbook.owner,
    description:
      `Derived from ${runbook.id}: promote the original primary again (rebuilt as a replica), DNS back, ` +
      `flags back to their values before ${recorded.run === undefined ? 'the failover' : `failover ${recorded.run}`}.`,
    objectives: runbook.objectives,
    // Going back is deliberate, with both members healthy: fenced, and promoted without loss.
    mode: 'planned',
    targets: { databases },
    steps,
  });
}

/**
 * The failback's id and its databases with their members swapped, or FailbackUnsupportedError when a provider
 * has no way back: what a client needs before the worker derives the steps from the recorded failover.
 */
export function failbackTarget(runbook: Runbook): { id: string; databases: Databases } {
  const databases: Databases = {};
  for (const [name, target] of Object.entries(runbook.targets.databases)) {
    databases[name] = databaseProvider(target.provider).failback(name, target) as DatabaseTarget;
  }
  return { id: `${runbook.id}${FAILBACK_SUFFIX}`, databases };
}

type Databases = Record<string, DatabaseTarget>;

function reverseStep(step: Step, recorded: RecordedFailover, context: FailbackContext): Step[] {
  if (step.kind !== 'parallel') return reverseLeaf(step, recorded, context);
  const inner = step.steps.flatMap((leaf) => reverseLeaf(leaf, recorded, context));
  if (inner.length === 0) return [];
  return inner.length === 1 ? inner : [{ ...step, steps: inner }];
}

function reverseLeaf(step: LeafStep, recorded: RecordedFailover, context: FailbackContext): LeafStep[] {
  return stepKind(step.kind).failback(step, recorded, context) as LeafStep[];
}
