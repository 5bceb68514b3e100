import { ApplicationFailure, condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ApprovalRequest } from '../kinds/step-kind';
import type { LeafStep } from '../runbooks/schema';
import { leafStepsOf } from './leaf-steps';
import type {
  AbortRequest,
  Approval,
  DecisionAction,
  OperatorAck,
  OperatorDecision,
} from './operator-decision';
import { rollBack, type CompletedStep } from './rollback';
import type {
  AwaitingOperator,
  FailoverInput,
  FailoverProgress,
  FailoverResult,
  OperatorAction,
  RollbackEntry,
  RunStatus,
  TimelineEntry,
} from './run-types';
import { describeStepFailure } from './step-failure';
import { performStep, type OperatorGates, type RunState } from './step-actions';
import { Timeline } from './timeline';

type Verdict = 'go' | 'stop';

/** A gate with no timeout of its own (proceeding unfenced) waits as long as a run may: a year. */
const APPROVAL_WAIT_FOREVER_MS = 365 * 24 * 3_600_000;

interface Gate {
  awaiting: AwaitingOperator;
  decision?: DecisionAction;
  approvedBy?: string;
}

/**
 * Interprets one runbook: steps in order, parallel groups together, each step's `onFailure` applied when it
 * fails after its retries. The operator stays in charge: approval gates wait for `approve`, a paused step for
 * `decide` (retry, skip, abort), and `abort` stops the run at the next step boundary, then undoes the
 * completed steps in reverse order unless told not to. Every operator action is recorded.
 */
export class FailoverRun implements OperatorGates {
  private readonly timeline = new Timeline();
  private readonly state: RunState;
  private status: RunStatus = 'running';
  private endedAt: string | undefined;
  private readonly gates = new Map<string, Gate>();
  private readonly completed: CompletedStep[] = [];
  private readonly operatorActions: OperatorAction[] = [];
  private abortRequest: AbortRequest | undefined;
  private rollback: RollbackEntry[] | undefined;

  constructor(private readonly input: FailoverInput) {
    this.state = { runbook: input.runbook, confirmedWritable: new Map() };
    this.operatorActions.push({
      action: 'start',
      operator: input.options.initiator,
      reason: input.options.reason,
      at: workflowInfo().startTime.toISOString(),
    });
    if (input.options.forceReason !== undefined) {
      this.operatorActions.push({
        action: 'force',
        operator: input.options.initiator,
        reason: `started although the plan was not ready: ${input.options.forceReason}`,
        at: workflowInfo().startTime.toISOString(),
      });
    }
  }

  async execute(): Promise<FailoverResult> {
    let verdict: Verdict = 'go';
    for (const step of this.input.runbook.steps) {
      if (this.abortRequest) break;
      verdict =
        step.kind === 'parallel'
          ? (await Promise.all(step.steps.map((inner) => this.runLeaf(inner, step.id)))).includes('stop')
            ? 'stop'
            : 'go'
          : await this.runLeaf(step);
      if (verdict === 'stop') break;
    }
    if (this.abortRequest) {
      if (this.abortRequest.rollback) this.rollback = await rollBack(this.input.runbook, this.completed);
      this.status = 'aborted';
    } else {
      this.status = verdict === 'stop' ? 'failed' : 'succeeded';
    }
    this.endedAt = new Date().toISOString();
    return this.progress() as FailoverResult;
  }

  progress(): FailoverProgress {
    const { runbook, options } = this.input;
    const awaiting = [...this.gates.values()].map((gate) => gate.awaiting);
    return {
      workflowId: workflowInfo().workflowId,
      runbookId: runbook.id,
      status: awaiting.length > 0 && this.status === 'running' ? 'paused' : this.status,
      reason: options.reason,
      initiator: options.initiator,
      startedAt: workflowInfo().startTime.toISOString(),
      ...(this.endedAt === undefined ? {} : { endedAt: this.endedAt }),
      currentSteps: this.timeline.running(),
      timeline: this.timeline.entries,
      totalSteps: leafStepsOf(runbook).length,
      operatorActions: this.operatorActions,
      awaiting,
      ...(this.rollback === undefined ? {} : { rollback: this.rollback }),
    };
  }

  /** Rejects (before anything is written to history) a decision for a step that is not paused. */
  validateDecision(decision: OperatorDecision): void {
    const gate = this.gates.get(decision.stepId);
    if (!gate || gate.awaiting.kind !== 'decision') {
      const paused = [...this.gates.values()]
        .filter((g) => g.awaiting.kind === 'decision')
        .map((g) => g.awaiting.stepId);
      throw new Error(
        `step "${decision.stepId}" is not paused` +
          (paused.length > 0 ? `; paused now: ${paused.join(', ')}` : '; no step is paused in this run'),
      );
    }
    requireReason(decision.reason);
  }

  decide(decision: OperatorDecision): OperatorAck {
    const gate = this.gates.get(decision.stepId);
    if (gate) gate.decision = decision.action;
    this.record({
      action: decision.action,
      operator: decision.operator,
      reason: decision.reason,
      stepId: decision.stepId,
    });
    if (decision.action === 'abort') {
      this.abortRequest = {
        operator: decision.operator,
        reason: decision.reason,
        rollback: decision.rollback ?? true,
      };
    }
    return { accepted: true, stepId: decision.stepId, action: decision.action };
  }

  validateApproval(approval: Approval): void {
    const gate = this.approvalGate(approval.stepId);
    requireReason(approval.reason);
    if (gate.awaiting.twoPerson && approval.operator === this.input.options.initiator) {
      throw new Error(
        `two-person approval: ${approval.operator} started this run and cannot approve "${gate.awaiting.stepId}"; another operator must run drctl approve`,
      );
    }
  }

  approve(approval: Approval): OperatorAck {
    const gate = this.approvalGate(approval.stepId);
    gate.approvedBy = approval.operator;
    this.record({
      action: 'approve',
      operator: approval.operator,
      reason: approval.reason,
      stepId: gate.awaiting.stepId,
    });
    return { accepted: true, stepId: gate.awaiting.stepId, action: 'approve' };
  }

  validateAbort(request: AbortRequest): void {
    requireReason(request.reason);
    if (this.status !== 'running') throw new Error(`the run has already ended (${this.status})`);
    if (this.abortRequest)
      throw new Error(`an abort is already under way (by ${this.abortRequest.operator})`);
  }

  abort(request: AbortRequest): OperatorAck {
    this.abortRequest = request;
    this.record({ action: 'abort', operator: request.operator, reason: request.reason });
    return { accepted: true, action: request.rollback ? 'abort with rollback' : 'abort without rollback' };
  }

  /** Waits for an approval of the gate `stepId`; resolves with who approved, or null on an abort. */
  async awaitApproval(stepId: string, options: ApprovalRequest): Promise<string | null> {
    const gate: Gate = {
      awaiting: { stepId, kind: 'approval', prompt: options.prompt, twoPerson: options.twoPerson },
    };
    this.gates.set(stepId, gate);
    try {
      const answered = await condition(
        () => gate.approvedBy !== undefined || this.abortRequest !== undefined,
        options.timeoutMs ?? APPROVAL_WAIT_FOREVER_MS,
      );
      if (!answered) {
        throw ApplicationFailure.nonRetryable(
          `no approval for "${stepId}" within its timeout; approve sooner (drctl approve ${workflowInfo().workflowId}) or raise the step's timeout`,
          'ApprovalTimeout',
        );
      }
      return gate.approvedBy ?? null;
    } finally {
      this.gates.delete(stepId);
    }
  }

  private async runLeaf(step: LeafStep, group?: string): Promise<Verdict> {
    for (;;) {
      if (this.abortRequest) return 'stop';
      const entry = this.timeline.start(step, group);
      try {
        const outcome = await performStep(step, this.state, this, (checks) => (entry.checks = checks));
        if (outcome.abortedWhileWaiting !== undefined) {
          entry.status = 'skipped';
          entry.summary = outcome.abortedWhileWaiting;
          return 'stop';
        }
        this.timeline.succeed(entry, outcome);
        this.completed.push({
          stepId: step.id,
          kind: step.kind,
          ...(outcome.compensation === undefined ? {} : { compensation: outcome.compensation }),
        });
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
        if (step.onFailure === 'abort') return 'stop';
        const action = await this.waitForDecision(step.id, entry);
        if (action === 'skip') {
          entry.status = 'skipped';
          return 'go';
        }
        if (action === 'abort') return 'stop';
      }
    }
  }

  private async waitForDecision(stepId: string, entry: TimelineEntry): Promise<DecisionAction> {
    entry.status = 'paused';
    const gate: Gate = {
      awaiting: {
        stepId,
        kind: 'decision',
        prompt: `step failed: retry, skip or abort (drctl retry|skip|abort ${workflowInfo().workflowId})`,
        ...(entry.error ? { error: entry.error } : {}),
      },
    };
    this.gates.set(stepId, gate);
    await condition(() => gate.decision !== undefined || this.abortRequest !== undefined);
    this.gates.delete(stepId);
    entry.status = 'failed';
    entry.decisions = this.operatorActions
      .filter((action) => action.stepId === stepId && action.action !== 'approve')
      .map(({ action, operator, reason, at }) => ({ action, operator, reason, at }));
    return gate.decision ?? 'abort';
  }

  private approvalGate(stepId: string | undefined): Gate {
    const waiting = [...this.gates.values()].filter((gate) => gate.awaiting.kind === 'approval');
    const gate =
      stepId === undefined
        ? waiting.length === 1
          ? waiting[0]
          : undefined
        : waiting.find((g) => g.awaiting.stepId === stepId);
    if (!gate) {
      const ids = waiting.map((g) => g.awaiting.stepId);
      throw new Error(
        ids.length === 0
          ? 'nothing in this run is waiting for an approval'
          : `${stepId === undefined ? 'several approvals are waiting' : `"${stepId}" is not waiting for an approval`}; waiting: ${ids.join(', ')} (pass --step)`,
      );
    }
    return gate;
  }

  private record(action: Omit<OperatorAction, 'at'>): void {
    this.operatorActions.push({ ...action, at: new Date().toISOString() });
  }
}

function requireReason(reason: string): void {
  if (!reason.trim()) throw new Error('a reason is required: it is recorded for the audit trail');
}
