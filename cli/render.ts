import { formatMs } from '../runbooks/duration';
import { terminalSafe as safe } from './terminal-safe';
import { runOutcome } from '../workflows/run-outcome';
import type { AwaitingOperator, FailoverProgress, PlanResult, TimelineEntry } from '../workflows/run-types';

const STATUS_MARK: Record<TimelineEntry['status'], string> = {
  running: '…',
  succeeded: '✔',
  failed: '✖',
  paused: '⏸',
  skipped: '↷',
  continued: '!',
  interrupted: '⏹',
};

/**
 * Steps that change the estate; for them `changed: false` means a retry or re-run found the effect in place.
 * Runs record it per step; for runs recorded before that, the registry says.
 */
function isMutating(entry: TimelineEntry): boolean {
  if (entry.mutates !== undefined) return entry.mutates;
  const { kind } = entry;
  // Loaded on first use only: the registry pulls in every kind's schema (~70 ms), which `status` rarely needs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, for a synchronous renderer.
  const { STEP_KINDS } = require('../kinds/registry') as typeof import('../kinds/registry');
  return STEP_KINDS.some((known) => known.kind === kind && known.mutates);
}

/** What a run waits for an operator for, and the commands that answer it. */
export function awaitingLines(
  progress: Pick<FailoverProgress, 'workflowId' | 'initiator'>,
  waiting: AwaitingOperator,
): string[] {
  const lines = [`⏸ waiting for an operator at ${waiting.stepId}: ${safe(waiting.prompt)}`];
  if (waiting.approvers)
    lines.push(
      `    needs ${waiting.approvers.rule}; approved so far: ${waiting.approvers.approvedBy.map(safe).join(', ') || 'nobody'} (${waiting.approvers.needed} more)`,
    );
  if (waiting.error) lines.push(`    failed with ${waiting.error.type}: ${safe(waiting.error.message)}`);
  lines.push(
    waiting.kind === 'approval'
      ? `    choices: drctl approve ${progress.workflowId} --step ${waiting.stepId} --reason "…"${waiting.twoPerson ? ` (by someone other than ${safe(progress.initiator)})` : ''} | drctl abort ${progress.workflowId} --reason "…"`
      : `    choices: drctl retry ${progress.workflowId} | drctl skip ${progress.workflowId} --reason "…" | drctl abort ${progress.workflowId} --reason "…" [--no-rollback]`,
  );
  return lines;
}

/** One line per step: mark, id, duration, attempts, provider time, and what happened. */
export function timelineLine(entry: TimelineEntry): string {
  const duration = entry.durationMs === undefined ? '' : formatMs(entry.durationMs);
  const attempts = entry.attempts > 1 ? ` ${entry.attempts} attempts` : '';
  const provider = entry.providerMs > 0 ? ` (provider ${formatMs(entry.providerMs)})` : '';
  const what = safe(entry.error ? `${entry.error.type}: ${entry.error.message}` : (entry.summary ?? ''));
  const changed =
    entry.changed === false && entry.status === 'succeeded' && isMutating(entry)
      ? ' [already done, nothing changed]'
      : '';
  const group = entry.group ? `${entry.group}/` : '';
  return `${STATUS_MARK[entry.status]} ${(group + entry.stepId).padEnd(28)} ${duration.padStart(7)}${attempts}${provider}  ${what}${changed}`;
}

export function renderTimeline(progress: FailoverProgress): string {
  const lines = progress.timeline.map(timelineLine);
  // Before: "running" with no step, as if stuck.
  if (progress.heldBy !== undefined)
    lines.push(
      `⏸ held by ${safe(progress.heldBy)} under its lock, changing nothing until it releases this run (a drill when it injects its failure, an evacuation when this service's wave starts); see drctl status ${safe(progress.heldBy)}`,
    );
  const failedChecks = progress.timeline.flatMap((entry) =>
    (entry.checks ?? []).filter((check) => !check.ok),
  );
  for (const check of failedChecks) lines.push(`    ✖ ${safe(check.check)}: ${safe(check.message)}`);
  for (const waiting of progress.awaiting ?? []) lines.push(...awaitingLines(progress, waiting));
  lines.push(...authorizationLines(progress.authorization));
  for (const entry of progress.rollback ?? [])
    lines.push(`↩ ${entry.stepId.padEnd(28)} ${entry.status}: ${safe(entry.detail)}`);
  const actions = (progress.operatorActions ?? []).filter((action) => action.action !== 'start');
  for (const action of actions) {
    lines.push(
      `  ${action.at} ${safe(action.operator)} ${action.action}${action.stepId ? ` ${action.stepId}` : ''}: ${safe(action.reason)}`,
    );
  }
  return lines.join('\n');
}

export function renderSummary(progress: FailoverProgress): string {
  const elapsed =
    progress.endedAt === undefined
      ? ''
      : ` in ${formatMs(Date.parse(progress.endedAt) - Date.parse(progress.startedAt))}`;
  const glass = progress.authorization?.breakGlassUses.length ?? 0;
  return (
    `${progress.workflowId}: ${runOutcome(progress)}${elapsed} (runbook ${progress.runbookId}, by ${safe(progress.initiator)}, reason: ${safe(progress.reason)})` +
    (glass > 0 ? `\n‼ BREAK-GLASS used ${glass} time(s) in this run: see the timeline, and report it` : '')
  );
}

/**
 * A plan as the run would go: numbered in order, the steps of a parallel group under one number with its group
 * (`2. prepare [parallel] …: 2 steps at once`, then `2.1`, `2.2`).
 */
export function renderPlan(plan: PlanResult): string {
  const lines = [`Plan for ${plan.runbookId} (nothing has been changed):`];
  let number = 0;
  let member = 0;
  plan.steps.forEach((step, index) => {
    const group = step.group;
    const sameGroupAsBefore = group !== undefined && plan.steps[index - 1]?.group === group;
    if (!sameGroupAsBefore) {
      number++;
      member = 0;
    }
    if (group !== undefined && !sameGroupAsBefore) {
      const size = countWhile(plan.steps.slice(index), (next) => next.group === group);
      lines.push(
        `${String(number).padStart(2)}. ${group} [parallel]${step.groupTitle ? ` ${safe(step.groupTitle)}` : ''}: ${size} steps at once`,
      );
    }
    const label = group === undefined ? `${String(number).padStart(2)}.` : `    ${number}.${++member}`;
    // Details under the step's id: 6 columns under " 2.", one past the label of a member ("    2.1", "    10.12").
    const indent = ' '.repeat(group === undefined ? 6 : label.length + 1);
    lines.push(`${label} ${step.stepId} [${step.kind}]${step.title ? ` ${safe(step.title)}` : ''}`);
    for (const change of step.changes) {
      lines.push(
        change.willChange
          ? `${indent}change ${safe(change.target)}: ${safe(change.current)} → ${safe(change.desired)}`
          : `${indent}keep   ${safe(change.target)}: already ${safe(change.current)}`,
      );
    }
    for (const check of step.checks)
      lines.push(`${indent}${check.ok ? '✔' : '✖'} ${safe(check.check)}: ${safe(check.message)}`);
    if (step.note) lines.push(`${indent}${safe(step.note)}`);
  });
  lines.push(
    plan.ready
      ? plan.steps.some((step) => step.checks.length > 0)
        ? 'Verdict: ready (every check passed).'
        : `Verdict: ready (no check to run${plan.steps.some((step) => step.changes.length > 0) ? '' : ': this runbook changes nothing, so its run has no pre-flight'}).`
      : `Verdict: NOT ready: ${plan.failedChecks} check${plan.failedChecks === 1 ? '' : 's'} failed (✖ above); a run would stop at pre-flight.`,
  );
  return lines.join('\n');
}

/** What a run's record says loudly, failover or evacuation: a start forced past its plan, each break-glass use. */
export function authorizationLines(authorization: FailoverProgress['authorization']): string[] {
  const lines: string[] = [];
  if (authorization?.forcedPastPlan !== undefined)
    lines.push(`‼ started although its plan was NOT ready: ${safe(authorization.forcedPastPlan)}`);
  for (const use of authorization?.breakGlassUses ?? [])
    lines.push(
      `‼ BREAK-GLASS ${use.action}${use.stepId ? ` ${use.stepId}` : ''} by ${safe(use.keyId)} (held by ${safe(use.holder)}) at ${use.at}: ${safe(use.reason)}`,
    );
  return lines;
}

function countWhile<T>(items: readonly T[], holds: (item: T) => boolean): number {
  const end = items.findIndex((item) => !holds(item));
  return end === -1 ? items.length : end;
}
