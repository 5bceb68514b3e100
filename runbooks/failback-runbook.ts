import { defineRunbook } from './define-runbook';
import type { DatabaseTarget, LeafStep, Runbook, Step } from './schema';

/** Thrown when a runbook has no automatic way back. */
export class FailbackUnsupportedError extends Error {
  readonly code = 'FailbackUnsupported';
  constructor(message: string) {
    super(message);
    this.name = 'FailbackUnsupportedError';
  }
}

/**
 * The way back from a failover, derived from the runbook itself: the members swap roles (the original
 * primary, rebuilt as a replica of the current one, is promoted again), DNS follows the promoted member, and
 * every flag the failover set is set back. Self-managed PostgreSQL only: an RDS replica that was promoted
 * needs a new read replica in the old region, which is a provisioning job, not a failover.
 */
export function failbackRunbook(runbook: Runbook): Runbook {
  const databases: Record<string, DatabaseTarget> = {};
  for (const [name, target] of Object.entries(runbook.targets.databases)) {
    if (target.provider !== 'postgres') {
      throw new FailbackUnsupportedError(
        `database "${name}" is ${target.provider}: drctl fails back self-managed PostgreSQL only. ` +
          'For RDS, create a read replica in the original region from the new primary, then run a failover runbook that targets it.',
      );
    }
    databases[name] = { ...target, primary: target.replica, replica: target.primary };
  }
  return defineRunbook({
    id: `${runbook.id}-failback`,
    title: `Fail back: ${runbook.title}`,
    owner: runbook.owner,
    description: `Derived from ${runbook.id}: promote the original primary again (rebuilt as a replica), DNS back, flags back.`,
    objectives: runbook.objectives,
    targets: { databases },
    steps: runbook.steps.flatMap(reverseStep),
  });
}

function reverseStep(step: Step): Step[] {
  if (step.kind === 'parallel') {
    const inner = step.steps.flatMap(reverseLeaf);
    if (inner.length === 0) return [];
    return inner.length === 1 ? inner : [{ ...step, steps: inner }];
  }
  return reverseLeaf(step);
}

function reverseLeaf(step: LeafStep): LeafStep[] {
  switch (step.kind) {
    case 'flags.set':
      return [{ ...step, flags: step.flags.map((flag) => ({ ...flag, enabled: !flag.enabled })) }];
    case 'backups.verify':
      return [];
    default:
      return [step];
  }
}
