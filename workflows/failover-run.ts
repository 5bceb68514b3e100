import { ApplicationFailure, condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import { approvalRuleOf, describeRule, type ApprovalRule } from '../auth/approval-rule';
import { OperatorAuthority, type Expectation, type VerifiedAction } from '../auth/operator-authority';
import type { StatementAction } from '../auth/permissions';
import type { ApprovalRequest } from '../kinds/step-kind';
import type { LeafStep } from '../runbooks/schema';
import { leafStepsOf } from './leaf-steps';
import type { AbortRequest, DecisionAction, OperatorAck, SignedOperatorUpdate } from './operator-decision';
import { recordBreakGlass, recordedAction, type StartCover } from './run-authority';
import { rollBack, type CompletedStep } from './rollback';
import type {
  AwaitingOperator,
  FailoverInput,
  FailoverProgress,
  FailoverResult,
  OperatorAction,
  RollbackEntry,
  RunAuthorization,
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
  /** For an approval gate: who must approve, and the verified approvals so far. */
  rule?: ApprovalRule;
  approvals: VerifiedAction[];
  approvedBy?: string;
}

/** The access policy and verified start that govern a run (see run-authority.ts). */
export interface RunAuth {
  authority: OperatorAuthority;
  initiator: VerifiedAction;
  authorization: RunAuthorization;
  /** A child of an evacuation: the evacuation whose forwarded abort it accepts. */
  covering?: StartCover;
}

/**
 * Interprets one runbook: steps in order, parallel groups together, each step's `onFailure` applied when it
 * fails after its retries. The operator stays in charge: approval gates wait for `approve`, a paused step for
 * `decide` (retry, skip, abort), and `abort` stops the run at the next step boundary, then undoes the
 * completed steps in reverse order unless told not to. Every operator action is signed; the update validators
 * verify it against the access policy (OperatorAuthority) before anything enters history, and the signed
 * statement is recorded with the action.
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

  private readonly usedNonces = new Set<string>();

  constructor(
    private readonly input: FailoverInput,
    private readonly auth: RunAuth,
  ) {
    this.state = { runbook: input.runbook, confirmedWritable: new Map() };
    this.usedNonces.add(auth.initiator.signed.statement.nonce);
    this.operatorActions.push(
      recordedAction(auth.initiator, 'start', workflowInfo().startTime.toISOString()),
    );
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
      authorization: this.auth.authorization,
      awaiting,
      ...(this.rollback === undefined ? {} : { rollback: this.rollback }),
    };
  }

  /**
   * Rejects, before anything is written to history, a decision that is not signed by someone the policy lets
   * decide (or abort) this run, or that is for a step that is not paused.
   */
  validateDecision(update: SignedOperatorUpdate): void {
    const verified = this.verify(update, ['retry', 'skip', 'abort']);
    const stepId = verified.signed.statement.stepId ?? '(none)';
    const gate = this.gates.get(stepId);
    if (!gate || gate.awaiting.kind !== 'decision') {
      const paused = [...this.gates.values()]
        .filter((g) => g.awaiting.kind === 'decision')
        .map((g) => g.awaiting.stepId);
      throw new Error(
        `step "${stepId}" is not paused` +
          (paused.length > 0 ? `; paused now: ${paused.join(', ')}` : '; no step is paused in this run'),
      );
    }
  }

  decide(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['retry', 'skip', 'abort']);
    const { statement } = verified.signed;
    const action = statement.action as DecisionAction;
    const stepId = statement.stepId ?? '';
    const gate = this.gates.get(stepId);
    if (gate) gate.decision = action;
    this.operatorActions.push(recordedAction(verified, action, new Date().toISOString()));
    if (action === 'abort') {
      this.abortRequest = {
        operator: verified.owner,
        reason: statement.reason,
        rollback: statement.detail?.rollback !== 'false',
      };
    }
    return { accepted: true, stepId, action, operator: verified.owner };
  }

  /**
   * Rejects a bad signature, a key or role the policy does not accept, a replayed or stale statement, a gate
   * that is not waiting, and an approver the gate's rule refuses (the initiator under the two-person rule,
   * someone outside the rule's group, a second approval by the same person), all by verified key owner.
   */
  validateApproval(update: SignedOperatorUpdate): void {
    const verified = this.verify(update, ['approve']);
    if (verified.signed.statement.stepId === undefined)
      throw new Error('an approval must name the gate it approves (statement.stepId); drctl approve does');
    const gate = this.approvalGate(verified.signed.statement.stepId);
    this.auth.authority.checkApproval(
      { stepId: gate.awaiting.stepId, rule: gate.rule ?? approvalRuleOf({}) },
      verified,
      { initiator: this.auth.initiator.owner, approvals: gate.approvals },
    );
  }

  approve(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['approve']);
    const gate = this.approvalGate(verified.signed.statement.stepId);
    const rule = gate.rule ?? approvalRuleOf({});
    gate.approvals.push(verified);
    const approvedBy = [...new Set(gate.approvals.map((approval) => approval.owner))];
    const needed = OperatorAuthority.satisfied(rule, gate.approvals) ? 0 : rule.count - approvedBy.length;
    gate.awaiting.approvers = { rule: describeRule(rule), approvedBy, needed };
    if (needed === 0) gate.approvedBy = approvedBy.join(', ');
    this.operatorActions.push(recordedAction(verified, 'approve', new Date().toISOString()));
    return {
      accepted: true,
      stepId: gate.awaiting.stepId,
      action: 'approve',
      operator: verified.owner,
      approvalsNeeded: needed,
    };
  }

  validateAbort(update: SignedOperatorUpdate): void {
    this.verify(update, ['abort']);
    if (this.status !== 'running') throw new Error(`the run has already ended (${this.status})`);
    if (this.abortRequest)
      throw new Error(`an abort is already under way (by ${this.abortRequest.operator})`);
  }

  abort(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['abort']);
    const { statement } = verified.signed;
    const rollback = statement.detail?.rollback !== 'false';
    this.abortRequest = { operator: verified.owner, reason: statement.reason, rollback };
    this.operatorActions.push(recordedAction(verified, 'abort', new Date().toISOString()));
    return {
      accepted: true,
      action: rollback ? 'abort with rollback' : 'abort without rollback',
      operator: verified.owner,
    };
  }

  /** Waits for an approval of the gate `stepId`; resolves with who approved and under which rule, or null on an abort. */
  async awaitApproval(stepId: string, options: ApprovalRequest): Promise<string | null> {
    const rule = approvalRuleOf(options);
    const gate: Gate = {
      awaiting: {
        stepId,
        kind: 'approval',
        prompt: options.prompt,
        twoPerson: rule.forbidInitiator,
        approvers: { rule: describeRule(rule), approvedBy: [], needed: rule.count },
      },
      rule,
      approvals: [],
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
      if (gate.approvedBy === undefined) return null;
      const glass = this.auth.authorization.breakGlassUses.find((use) => use.stepId === stepId);
      return glass
        ? `BREAK-GLASS key ${glass.keyId} (held by ${glass.holder}), in place of ${describeRule(rule)}`
        : `${gate.approvedBy} (${describeRule(rule)})`;
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
      approvals: [],
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

  /** Verifies a signed update for this run against the policy (no state changes: validators call it). */
  private verify(update: SignedOperatorUpdate, actions: readonly StatementAction[]): VerifiedAction {
    return this.verifyFor(update?.signed, actions, true);
  }

  /**
   * Checks a statement against this run, or, for an abort of a child of an evacuation, against the evacuation
   * that forwarded it (signed for the evacuation's run, id and hash; its signer must also hold `abort` on this
   * runbook).
   */
  private verifyFor(
    signed: unknown,
    actions: readonly StatementAction[],
    checkFreshness: boolean,
  ): VerifiedAction {
    const covering = this.auth.covering;
    const statement = (signed as { statement?: { runId?: unknown } } | undefined)?.statement;
    if (covering === undefined || !actions.includes('abort') || statement?.runId !== covering.runId)
      return this.auth.authority.verify(signed, this.expectation(actions, checkFreshness));
    const verified = this.auth.authority.verify(signed, {
      ...this.expectation(['abort'], checkFreshness),
      runId: covering.runId,
      runbookId: covering.id,
      runbookHash: covering.sha256,
    });
    if (!this.auth.authority.allows(verified.owner, 'abort', this.auth.authorization.runbookId))
      throw new Error(
        `not permitted: ${verified.owner} may not abort runbook ${this.auth.authorization.runbookId} under the access policy`,
      );
    return verified;
  }

  /**
   * The handler's side of an accepted update: verified again (the validator's checks, but not the age: a
   * replayed history runs handlers without validators, at the time of the original), its nonce spent, a
   * break-glass use recorded.
   */
  private accept(update: SignedOperatorUpdate, actions: readonly StatementAction[]): VerifiedAction {
    let verified: VerifiedAction;
    try {
      verified = this.verifyFor(update.signed, actions, false);
    } catch (error) {
      // Only a duplicate in the same activation gets here (its twin spent the nonce): the update fails, the run goes on.
      throw ApplicationFailure.nonRetryable((error as Error).message, 'NotAuthorized');
    }
    this.usedNonces.add(verified.signed.statement.nonce);
    if (verified.breakGlass)
      recordBreakGlass(this.auth.authorization, verified, verified.signed.statement.action);
    return verified;
  }

  private expectation(actions: readonly StatementAction[], checkFreshness: boolean): Expectation {
    return {
      actions,
      runId: workflowInfo().workflowId,
      runbookId: this.auth.authorization.runbookId,
      runbookHash: this.auth.authorization.runbookHash,
      now: Date.now(),
      checkFreshness,
      usedNonces: this.usedNonces,
    };
  }
}
