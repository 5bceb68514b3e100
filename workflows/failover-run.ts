import {
  CancellationScope,
  condition,
  isCancellation,
  ParentClosePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { fenceFollowUpId } from '../common/run-lock';
import { KIND_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import { databaseInput } from '../kinds/database-targets';
import { stepKind } from '../kinds/registry';
import type { ApprovalAnswer, ApprovalRequest, ApprovalRule, EffectRecord } from '../kinds/step-kind';
import type { LeafStep } from '../runbooks/schema';
import { automaticPreflightStep, changesEstate, runsAutomaticPreflight } from './automatic-preflight';
import { fenceFollowUpWorkflow } from './fence-follow-up';
import { innermostMessage } from './innermost-message';
import { leafStepsOf } from './leaf-steps';
import type {
  AbortRequest,
  Approval,
  DecisionAction,
  OperatorAck,
  OperatorDecision,
  ReleaseRequest,
} from './operator-decision';
import { rollBack, type EffectEntry } from './rollback';
import type {
  AwaitingOperator,
  FailoverInput,
  FailoverProgress,
  FailoverResult,
  FollowUpRef,
  OperatorAction,
  RollbackEntry,
  RunStatus,
  TimelineEntry,
} from './run-types';
import { describeStepFailure } from './step-failure';
import { performStep, type OperatorGates, type RunState } from './step-actions';
import { Timeline } from './timeline';

type Verdict = 'go' | 'stop';

interface Gate {
  awaiting: AwaitingOperator;
  decision?: DecisionAction;
  /** An approval gate's rule, and the different operators who approved so far. */
  rule?: ApprovalRule;
  approvals: string[];
  released?: boolean;
  /** A paused step whose skip needs several operators: how many, and who asked so far. */
  skipApprovers: number;
  skips: string[];
}

/**
 * Interprets one runbook: steps in order, parallel groups together, each step's `onFailure` applied when it
 * fails after its retries. Safety rules hold whatever the runbook says: pre-flight of every target runs before
 * the first change; each mutating step records the state it will change before acting, so the undo survives a
 * crash; an abort interrupts running steps at once and then undoes, in reverse order, what the steps changed,
 * keeping what would move traffic back to an old primary once a promotion happened. The operator stays in
 * charge: approval gates wait for `approve` (from as many different operators as the gate needs), a paused
 * step for `decide` (retry, skip, abort). Every operator action is recorded.
 */
export class FailoverRun {
  private readonly timeline = new Timeline();
  private readonly state: RunState;
  private status: RunStatus = 'running';
  private endedAt: string | undefined;
  private readonly gates = new Map<string, Gate>();
  private readonly effects: EffectEntry[] = [];
  private readonly operatorActions: OperatorAction[] = [];
  private readonly runningScopes = new Set<CancellationScope>();
  private readonly followUps: FollowUpRef[] = [];
  private abortRequest: AbortRequest | undefined;
  private haltRollback = false;
  private rollback: RollbackEntry[] | undefined;
  private preflightDone = false;
  private released: boolean;
  private dropped: string | undefined;

  constructor(private readonly input: FailoverInput) {
    this.state = { runbook: input.runbook, confirmedWritable: new Map(), unfenced: new Map() };
    this.released = input.options.holdUntilReleasedMs === undefined;
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
    let verdict: Verdict = (await this.awaitRelease()) ? 'go' : 'stop';
    for (const step of verdict === 'go' ? this.input.runbook.steps : []) {
      if (this.abortRequest) break;
      if (!this.preflightDone && changesEstate(step)) {
        verdict = await this.runLeaf(automaticPreflightStep());
        if (verdict === 'stop') break;
      }
      verdict =
        step.kind === 'parallel'
          ? (await Promise.all(step.steps.map((inner) => this.runLeaf(inner, step.id)))).includes('stop')
            ? 'stop'
            : 'go'
          : await this.runLeaf(step);
      await this.ensureFollowUps();
      if (verdict === 'stop') break;
    }
    if (this.abortRequest ? this.abortRequest.rollback : this.haltRollback) {
      this.rollback = await rollBack(this.input.runbook, this.effects);
    }
    await this.ensureFollowUps();
    if (this.abortRequest) this.status = 'aborted';
    else this.status = verdict === 'stop' ? 'failed' : 'succeeded';
    this.endedAt = new Date().toISOString();
    return this.progress() as FailoverResult;
  }

  progress(): FailoverProgress {
    const { runbook, options } = this.input;
    const awaiting = [...this.gates.values()].map((gate) => gate.awaiting);
    return {
      workflowId: workflowInfo().workflowId,
      runId: workflowInfo().runId,
      runbookId: runbook.id,
      status: awaiting.length > 0 && this.status === 'running' ? 'paused' : this.status,
      reason: options.reason,
      initiator: options.initiator,
      startedAt: workflowInfo().startTime.toISOString(),
      ...(this.endedAt === undefined ? {} : { endedAt: this.endedAt }),
      currentSteps: this.timeline.running(),
      timeline: this.timeline.entries,
      totalSteps: leafStepsOf(runbook).length + (runsAutomaticPreflight(runbook.steps) ? 1 : 0),
      operatorActions: this.operatorActions,
      awaiting,
      ...(this.rollback === undefined ? {} : { rollback: this.rollback }),
      ...(this.followUps.length === 0 ? {} : { followUps: this.followUps }),
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
    if (decision.action === 'skip' && gate.skipApprovers > 1 && gate.skips.includes(decision.operator)) {
      throw new Error(
        `${decision.operator} already asked to skip "${decision.stepId}"; skipping it needs ${gate.skipApprovers} different operators, so another operator must run drctl skip`,
      );
    }
  }

  decide(decision: OperatorDecision): OperatorAck {
    const gate = this.gates.get(decision.stepId);
    this.record({
      action: decision.action,
      operator: decision.operator,
      reason: decision.reason,
      stepId: decision.stepId,
    });
    if (gate && decision.action === 'skip' && gate.skipApprovers > 1) {
      if (!gate.skips.includes(decision.operator)) gate.skips.push(decision.operator);
      const needed = Math.max(0, gate.skipApprovers - gate.skips.length);
      gate.awaiting.approvers = {
        rule: `skip by ${gate.skipApprovers} different operators`,
        approvedBy: [...gate.skips],
        needed,
      };
      if (needed > 0)
        return { accepted: true, stepId: decision.stepId, action: 'skip', approvalsNeeded: needed };
    }
    if (gate) gate.decision = decision.action;
    if (decision.action === 'abort') {
      this.requestAbort({
        operator: decision.operator,
        reason: decision.reason,
        rollback: decision.rollback ?? true,
      });
    }
    return { accepted: true, stepId: decision.stepId, action: decision.action };
  }

  validateApproval(approval: Approval): void {
    const gate = this.approvalGate(approval.stepId);
    requireReason(approval.reason);
    const rule = gate.rule ?? { count: 1, forbidInitiator: false };
    if (rule.forbidInitiator && approval.operator === this.input.options.initiator) {
      throw new Error(
        `two-person approval: ${approval.operator} started this run and cannot approve "${gate.awaiting.stepId}"; another operator must run drctl approve`,
      );
    }
    if (gate.approvals.includes(approval.operator)) {
      throw new Error(
        `${approval.operator} already approved "${gate.awaiting.stepId}"; it needs ${rule.count} different operators, so another operator must run drctl approve`,
      );
    }
  }

  approve(approval: Approval): OperatorAck {
    const gate = this.approvalGate(approval.stepId);
    const rule = gate.rule ?? { count: 1, forbidInitiator: false };
    if (!gate.approvals.includes(approval.operator)) gate.approvals.push(approval.operator);
    const needed = Math.max(0, rule.count - gate.approvals.length);
    if (gate.awaiting.approvers) {
      gate.awaiting.approvers = { ...gate.awaiting.approvers, approvedBy: [...gate.approvals], needed };
    }
    if (needed === 0) gate.released = true;
    this.record({
      action: 'approve',
      operator: approval.operator,
      reason: approval.reason,
      stepId: gate.awaiting.stepId,
    });
    return { accepted: true, stepId: gate.awaiting.stepId, action: 'approve', approvalsNeeded: needed };
  }

  validateAbort(request: AbortRequest): void {
    requireReason(request.reason);
    if (this.status !== 'running') throw new Error(`the run has already ended (${this.status})`);
    if (this.abortRequest)
      throw new Error(`an abort is already under way (by ${this.abortRequest.operator})`);
  }

  abort(request: AbortRequest): OperatorAck {
    this.record({ action: 'abort', operator: request.operator, reason: request.reason });
    this.requestAbort(request);
    return { accepted: true, action: request.rollback ? 'abort with rollback' : 'abort without rollback' };
  }

  /** The drill that took the lock for this run has injected its failure (or failed to): the run may begin. */
  release(request: ReleaseRequest): void {
    if (this.released || this.dropped !== undefined) return;
    this.record({ action: 'release', operator: request.operator, reason: request.reason });
    if (request.proceed) this.released = true;
    else this.dropped = request.reason;
  }

  /** Waits for approvals of the gate `stepId`; says who approved, or that the run was aborted or it timed out. */
  async awaitApproval(stepId: string, request: ApprovalRequest): Promise<ApprovalAnswer> {
    const rule = request.approvers;
    const gate: Gate = {
      awaiting: {
        stepId,
        kind: 'approval',
        prompt: request.prompt,
        twoPerson: rule.forbidInitiator,
        ...(rule.count > 1
          ? { approvers: { rule: describeRule(rule), approvedBy: [], needed: rule.count } }
          : {}),
      },
      rule,
      approvals: [],
      skipApprovers: 1,
      skips: [],
    };
    this.gates.set(stepId, gate);
    try {
      const answered = () => gate.released === true || this.abortRequest !== undefined;
      const inTime =
        request.timeoutMs === undefined
          ? await condition(answered).then(() => true)
          : await condition(answered, request.timeoutMs);
      if (gate.released) return { outcome: 'approved', approvedBy: [...gate.approvals] };
      return inTime ? { outcome: 'aborted' } : { outcome: 'timed out' };
    } finally {
      this.gates.delete(stepId);
    }
  }

  /** A pre-flight passed every check: the run may change things. */
  preflightPassed(): void {
    this.preflightDone = true;
  }

  private async runLeaf(step: LeafStep, group?: string): Promise<Verdict> {
    for (;;) {
      if (this.abortRequest) return 'stop';
      const entry = this.timeline.start(step, group);
      const scope = new CancellationScope();
      this.runningScopes.add(scope);
      const gates: OperatorGates = {
        awaitApproval: (stepId, request) => this.awaitApproval(stepId, request),
        beforeEffect: (record) => this.recordEffect(record, step, entry),
        preflightPassed: () => this.preflightPassed(),
      };
      try {
        const outcome = await scope.run(() =>
          performStep(step, this.state, gates, (checks) => (entry.checks = checks)),
        );
        this.settleEffect(step.id, 'done');
        if (outcome.abortedWhileWaiting !== undefined) {
          this.timeline.interrupt(entry, outcome.abortedWhileWaiting);
          return 'stop';
        }
        if (outcome.halt !== undefined) {
          this.timeline.fail(entry, { type: outcome.halt.type, message: outcome.halt.message }, 1, 0);
          this.haltRollback = outcome.halt.rollback;
          return 'stop';
        }
        this.timeline.succeed(entry, outcome);
        return 'go';
      } catch (error) {
        if (isCancellation(error) && this.abortRequest !== undefined) {
          const acted = this.settleEffect(step.id, 'interrupted');
          this.timeline.interrupt(
            entry,
            `interrupted by the abort${acted ? '; what it may have changed is undone with the rest (the state before it acted was recorded)' : ''}`,
          );
          return 'stop';
        }
        if (isCancellation(error)) throw error;
        this.settleEffect(step.id, 'failed');
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
        const { action, skippedBy } = await this.waitForDecision(step, entry);
        if (action === 'skip') {
          entry.status = 'skipped';
          stepKind(step.kind).skipped?.(step, this.state, skippedBy);
          return 'go';
        }
        if (action === 'abort') return 'stop';
      } finally {
        this.runningScopes.delete(scope);
      }
    }
  }

  private async waitForDecision(
    step: LeafStep,
    entry: TimelineEntry,
  ): Promise<{ action: DecisionAction; skippedBy: string[] }> {
    const stepId = step.id;
    entry.status = 'paused';
    const skipApprovers = stepKind(step.kind).skipApprovers ?? 1;
    const gate: Gate = {
      awaiting: {
        stepId,
        kind: 'decision',
        prompt:
          `step failed: retry, skip or abort (drctl retry|skip|abort ${workflowInfo().workflowId})` +
          (skipApprovers > 1 ? `; skipping it needs ${skipApprovers} different operators` : ''),
        ...(entry.error ? { error: entry.error } : {}),
      },
      approvals: [],
      skipApprovers,
      skips: [],
    };
    this.gates.set(stepId, gate);
    await condition(() => gate.decision !== undefined || this.abortRequest !== undefined);
    this.gates.delete(stepId);
    entry.status = 'failed';
    entry.decisions = this.operatorActions
      .filter((action) => action.stepId === stepId && action.action !== 'approve')
      .map(({ action, operator, reason, at }) => ({ action, operator, reason, at }));
    const skippedBy =
      gate.skips.length > 0 ? [...gate.skips] : entry.decisions.slice(-1).map((d) => d.operator);
    return { action: gate.decision ?? 'abort', skippedBy };
  }

  /** Holds a run a drill started until the drill has injected its failure; false if it never came. */
  private async awaitRelease(): Promise<boolean> {
    const holdMs = this.input.options.holdUntilReleasedMs;
    if (holdMs === undefined) return true;
    const answered = await condition(
      () => this.released || this.dropped !== undefined || this.abortRequest !== undefined,
      holdMs,
    );
    if (this.released) return true;
    const entry = this.timeline.start({
      id: 'hold',
      kind: 'hold',
      title: 'Held until the drill released it',
    });
    this.timeline.fail(
      entry,
      {
        type: 'NotReleased',
        message: !answered
          ? `the drill that started this run did not release it within ${Math.round(holdMs / 60_000)} min; nothing was changed`
          : this.dropped !== undefined
            ? `the drill that started this run called it off (${this.dropped}); nothing was changed`
            : 'aborted before the drill released the run; nothing was changed',
      },
      0,
      0,
    );
    return false;
  }

  /** Starts the follow-up fence of each old primary the run went on without, once a promotion of it started. */
  private async ensureFollowUps(): Promise<void> {
    for (const [database, unfenced] of this.state.unfenced) {
      if (this.followUps.some((followUp) => followUp.database === database)) continue;
      if (!this.effects.some((effect) => effect.promotion === database)) continue;
      const { runbook } = this.input;
      const workflowId = fenceFollowUpId(runbook.id, database);
      try {
        await startChild(fenceFollowUpWorkflow, {
          workflowId,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: [
            { key: RUNBOOK_KEY, value: runbook.id },
            { key: KIND_KEY, value: 'fence-follow-up' },
          ],
          args: [
            {
              runbookId: runbook.id,
              database: databaseInput(runbook, database),
              failover: { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId },
              approvedBy: unfenced.approvedBy,
            },
          ],
        });
        this.followUps.push({ database, workflowId, status: 'started' });
      } catch (error) {
        this.followUps.push(
          error instanceof WorkflowExecutionAlreadyStartedError
            ? { database, workflowId, status: 'already running' }
            : { database, workflowId, status: 'could not start', detail: innermostMessage(error) },
        );
      }
    }
  }

  private requestAbort(request: AbortRequest): void {
    this.abortRequest = request;
    for (const scope of this.runningScopes) scope.cancel();
  }

  /** Marks how the step's recorded effect ended; true when the step had recorded one. */
  private settleEffect(stepId: string, state: EffectEntry['state']): boolean {
    const effect = this.effects.find((candidate) => candidate.stepId === stepId);
    if (effect === undefined || effect.state !== 'started') return effect !== undefined;
    effect.state = state;
    return true;
  }

  /**
   * Called by a step just before the activity that changes the estate: the undo (read from the estate by an
   * activity, so it is in history) is now in the run's record, whatever happens to the activity.
   */
  private recordEffect(record: EffectRecord, step: LeafStep, entry: TimelineEntry): void {
    const first = this.timeline.entries.find((e) => e.stepId === step.id && e.before !== undefined);
    if (record.before !== undefined) entry.before = first?.before ?? record.before;
    const earlier = this.effects.find((effect) => effect.stepId === step.id);
    if (earlier !== undefined) {
      // A retried step keeps the state read before its first attempt: that is what the run changed.
      earlier.state = 'started';
      earlier.willChange = earlier.willChange || record.willChange;
      if (earlier.undo === undefined && record.undo !== undefined) earlier.undo = record.undo;
      return;
    }
    this.effects.push({
      stepId: step.id,
      kind: step.kind,
      willChange: record.willChange,
      state: 'started',
      ...(record.undo === undefined ? {} : { undo: record.undo }),
      ...(record.promotion === undefined ? {} : { promotion: record.promotion }),
    });
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

function describeRule(rule: ApprovalRule): string {
  const who = `${rule.count} different operator${rule.count === 1 ? '' : 's'}`;
  return rule.forbidInitiator ? `${who}, not the initiator` : who;
}
