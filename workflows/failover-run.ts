import { condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { LeafStep } from '../runbooks/schema';
import type { DecisionAction, OperatorDecision } from './operator-decision';
import type { FailoverInput, FailoverProgress, FailoverResult, RunStatus, TimelineEntry } from './run-types';
import { describeStepFailure } from './step-failure';
import { performStep, type RunState } from './step-actions';
import { Timeline } from './timeline';
import { leafStepsOf } from './leaf-steps';

type Verdict = 'go' | 'abort';

/**
 * Interprets one runbook: steps in order, parallel groups together, each step's `onFailure` applied when it
 * fails after its retries. A paused step waits for an operator decision (retry, skip, abort).
 */
export class FailoverRun {
  private readonly timeline = new Timeline();
  private readonly state: RunState;
  private status: RunStatus = 'running';
  private endedAt: string | undefined;
  private readonly paused = new Map<string, { entry: TimelineEntry; decision?: DecisionAction }>();

  constructor(private readonly input: FailoverInput) {
    this.state = { runbook: input.runbook, confirmedWritable: new Map() };
  }

  async execute(): Promise<FailoverResult> {
    let verdict: Verdict = 'go';
    for (const step of this.input.runbook.steps) {
      verdict =
        step.kind === 'parallel'
          ? (await Promise.all(step.steps.map((inner) => this.runLeaf(inner, step.id)))).includes('abort')
            ? 'abort'
            : 'go'
          : await this.runLeaf(step);
      if (verdict === 'abort') break;
    }
    this.status = verdict === 'abort' ? 'failed' : 'succeeded';
    this.endedAt = new Date().toISOString();
    return this.progress() as FailoverResult;
  }

  progress(): FailoverProgress {
    const { runbook, options } = this.input;
    return {
      workflowId: workflowInfo().workflowId,
      runbookId: runbook.id,
      status: this.paused.size > 0 && this.status === 'running' ? 'paused' : this.status,
      reason: options.reason,
      initiator: options.initiator,
      startedAt: workflowInfo().startTime.toISOString(),
      ...(this.endedAt === undefined ? {} : { endedAt: this.endedAt }),
      currentSteps: this.timeline.running(),
      timeline: this.timeline.entries,
      totalSteps: leafStepsOf(runbook).length,
    };
  }

  /** Rejects (before anything is written to history) a decision for a step that is not paused. */
  validateDecision(decision: OperatorDecision): void {
    if (!this.paused.has(decision.stepId)) {
      const pausedIds = [...this.paused.keys()];
      throw new Error(
        `step "${decision.stepId}" is not paused` +
          (pausedIds.length > 0
            ? `; paused now: ${pausedIds.join(', ')}`
            : '; no step is paused in this run'),
      );
    }
    if (!decision.reason.trim())
      throw new Error('a decision needs a reason: it is recorded for the audit trail');
  }

  decide(decision: OperatorDecision): { accepted: true; stepId: string; action: DecisionAction } {
    const pause = this.paused.get(decision.stepId);
    if (pause) {
      pause.decision = decision.action;
      pause.entry.decisions = [
        ...(pause.entry.decisions ?? []),
        {
          action: decision.action,
          operator: decision.operator,
          reason: decision.reason,
          at: new Date().toISOString(),
        },
      ];
    }
    return { accepted: true, stepId: decision.stepId, action: decision.action };
  }

  private async runLeaf(step: LeafStep, group?: string): Promise<Verdict> {
    for (;;) {
      const entry = this.timeline.start(step, group);
      try {
        const outcome = await performStep(step, this.state, (checks) => (entry.checks = checks));
        this.timeline.succeed(entry, outcome);
        return 'go';
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failure = describeStepFailure(error);
        this.timeline.fail(
          entry,
          { type: failure.type, message: failure.message },
          failure.attempts,
          failure.providerMs,
        );
        if (step.onFailure === 'continue') {
          this.timeline.markContinued(entry);
          return 'go';
        }
        if (step.onFailure === 'abort') return 'abort';
        const action = await this.waitForDecision(step.id, entry);
        if (action === 'skip') {
          entry.status = 'skipped';
          return 'go';
        }
        if (action === 'abort') return 'abort';
      }
    }
  }

  private async waitForDecision(stepId: string, entry: TimelineEntry): Promise<DecisionAction> {
    entry.status = 'paused';
    const pause: { entry: TimelineEntry; decision?: DecisionAction } = { entry };
    this.paused.set(stepId, pause);
    await condition(() => pause.decision !== undefined);
    this.paused.delete(stepId);
    entry.status = 'failed';
    return pause.decision as DecisionAction;
  }
}
