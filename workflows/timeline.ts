import type { StepOutcome, CheckResult } from '../activities/contracts';
import type { TimelineEntry } from './run-types';

/**
 * The run's step timeline. Times come from the workflow clock (deterministic in Temporal), so the timeline
 * replays exactly. Entries are mutated in place; the progress query returns the array as it stands.
 */
export class Timeline {
  readonly entries: TimelineEntry[] = [];

  start(
    step: { id: string; kind: string; title?: string | undefined },
    group?: string,
    mutates?: boolean,
  ): TimelineEntry {
    const entry: TimelineEntry = {
      stepId: step.id,
      kind: step.kind,
      ...(mutates === undefined ? {} : { mutates }),
      status: 'running',
      startedAt: new Date().toISOString(),
      attempts: 0,
      providerMs: 0,
      ...(step.title === undefined ? {} : { title: step.title }),
      ...(group === undefined ? {} : { group }),
    };
    this.entries.push(entry);
    return entry;
  }

  succeed(entry: TimelineEntry, outcome: Partial<StepOutcome> & { checks?: CheckResult[] }): void {
    entry.attempts = outcome.attempt ?? Math.max(entry.attempts, 1);
    entry.providerMs = outcome.providerMs ?? 0;
    if (outcome.changed !== undefined) entry.changed = outcome.changed;
    if (outcome.summary !== undefined) entry.summary = outcome.summary;
    if (outcome.facts !== undefined) entry.facts = outcome.facts;
    if (outcome.checks !== undefined) entry.checks = outcome.checks;
    this.finish(entry, 'succeeded');
  }

  fail(
    entry: TimelineEntry,
    error: { type: string; message: string },
    attempts: number,
    providerMs: number,
  ): void {
    entry.attempts = attempts;
    entry.providerMs = providerMs;
    entry.error = error;
    this.finish(entry, 'failed');
  }

  /** An operator's abort stopped the step while it ran. */
  interrupt(entry: TimelineEntry, summary: string): void {
    entry.summary = summary;
    this.finish(entry, 'interrupted');
  }

  /** The step failed but its `onFailure: continue` let the run go on. */
  markContinued(entry: TimelineEntry): void {
    entry.status = 'continued';
  }

  running(): string[] {
    return this.entries.filter((entry) => entry.status === 'running').map((entry) => entry.stepId);
  }

  private finish(entry: TimelineEntry, status: TimelineEntry['status']): void {
    const ended = new Date();
    entry.status = status;
    entry.endedAt = ended.toISOString();
    entry.durationMs = ended.getTime() - Date.parse(entry.startedAt);
  }
}
