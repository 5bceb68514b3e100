import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  ParentClosePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import { UpdateRefusal } from '../common/update-refusals';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CheckResult } from '../activities/contracts';
import { describeRule, type ApprovalRule } from '../auth/approval-rule';
import { OperatorAuthority, type Expectation, type VerifiedAction } from '../auth/operator-authority';
import type { StatementAction } from '../auth/permissions';
import { fenceFollowUpId } from '../common/run-lock';
import { KIND_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import { databaseInput } from '../kinds/database-targets';
import { stepKind } from '../kinds/registry';
import type { ApprovalAnswer, ApprovalRequest, EffectRecord, RecordedEffect } from '../kinds/step-kind';
import type { LeafStep } from '../runbooks/schema';
import { automaticPreflightStep, changesEstate, runsAutomaticPreflight } from './automatic-preflight';
import { fenceFollowUpWorkflow } from './fence-follow-up';
import { innermostMessage } from './innermost-message';
import { HeldReads, READS_WHILE_HELD_PATCH } from './held-reads';
import { leafStepsOf } from './leaf-steps';
import { awaitParentRelease } from './parent-release';
import type {
  AbortRequest,
  DecisionAction,
  OperatorAck,
  ReleaseRequest,
  SignedOperatorUpdate,
} from './operator-decision';
import { recordBreakGlass, recordedAction } from './run-authority';
import { rollBack, type EffectEntry } from './rollback';
import type {
  AwaitingOperator,
  FailoverInput,
  FailoverProgress,
  FailoverResult,
  FollowUpRef,
  OperatorAction,
  RollbackEntry,
  RunAuthorization,
  RunStatus,
  StartCover,
  TimelineEntry,
} from './run-types';
import { NOT_RELEASED_ERROR } from './run-outcome';
import { describeStepFailure } from './step-failure';
import { performStep, readAheadsFor, type OperatorGates, type RunState } from './step-actions';
import { Timeline } from './timeline';
import { childCancellation } from './child-cancellation';

type Verdict = 'go' | 'stop';

interface Gate {
  awaiting: AwaitingOperator;
  decision?: DecisionAction;
  /** An approval gate's rule, and the verified approvals so far. */
  rule?: ApprovalRule;
  approvals: VerifiedAction[];
  released?: boolean;
  /** A paused step whose skip needs several operators: how many, and the verified skips so far. */
  skipApprovers: number;
  skips: VerifiedAction[];
}

/** The access policy and verified start that govern a run (see run-authority.ts). */
export interface RunAuth {
  authority: OperatorAuthority;
  initiator: VerifiedAction;
  authorization: RunAuthorization;
  /** A child of an evacuation: the evacuation whose forwarded abort it accepts. */
  covering?: StartCover;
}

/** Who aborted a run cancelled through Temporal: no operator signed it. */
export const TEMPORAL_CANCEL = 'a cancel through Temporal (unsigned)';
const TEMPORAL_CANCEL_REASON =
  'cancelled through Temporal (its UI or CLI), not with drctl abort: stopped and rolled back as an abort';

/**
 * Interprets one runbook: steps in order, parallel groups together, each step's `onFailure` applied when it
 * fails after its retries. Safety rules hold whatever the runbook says: pre-flight of every target runs before
 * the first change; each mutating step records the state it will change before acting, so the undo survives a
 * crash; an abort interrupts running steps at once and then undoes, in reverse order, what the steps changed,
 * keeping what would move traffic back to an old primary once a promotion happened. The operator stays in
 * charge: approval gates wait for `approve` (from as many different operators as the gate needs), a paused
 * step for `decide` (retry, skip, abort). Every operator action is signed; the update validators verify it
 * against the access policy (OperatorAuthority) before anything enters history, and the signed statement is
 * recorded with the action.
 */
export class FailoverRun {
  private readonly timeline = new Timeline();
  private readonly state: RunState;
  private status: RunStatus = 'running';
  private endedAt: string | undefined;
  private readonly gates = new Map<string, Gate>();
  private readonly effects: EffectEntry[] = [];
  /** The timeline entry (one execution of a step) that first recorded each step's effect, by step id. */
  private readonly effectRecordedBy = new Map<string, TimelineEntry>();
  private readonly operatorActions: OperatorAction[] = [];
  private readonly runningScopes = new Set<CancellationScope>();
  private readonly followUps: FollowUpRef[] = [];
  private abortRequest: AbortRequest | undefined;
  /** The steps have ended (stopped, or all done): what remains is the rollback, follow-ups and the result. */
  private stepsEnded = false;
  private haltRollback = false;
  private rollback: RollbackEntry[] | undefined;
  private preflightDone = false;
  private released: boolean;
  /** When the read that saw its parent's release was made (`HoldOutcome`). */
  private releasedAtMs: number | undefined;
  private dropped: string | undefined;
  /** `release` signals to a run held by its parent (`heldByParent`): each only makes it look at its parent. */
  private releaseNudges = 0;

  private readonly usedNonces = new Set<string>();
  /** Reads started ahead for steps not yet running (`readAheadsFor`), by step id. */
  private readonly readAheads = new Map<string, Promise<unknown>>();
  /** The pre-flight made while the run was held, when its parent asked for it (`readsWhileHeld`). */
  private heldReads: HeldReads | undefined;

  constructor(
    private readonly input: FailoverInput,
    private readonly auth: RunAuth,
  ) {
    this.state = { runbook: input.runbook, confirmedWritable: new Map(), unfenced: new Map() };
    this.released =
      input.options.holdUntilReleasedMs === undefined && input.options.heldByParent === undefined;
    this.usedNonces.add(auth.initiator.signed.statement.nonce);
    this.operatorActions.push(
      recordedAction(auth.initiator, 'start', workflowInfo().startTime.toISOString()),
    );
  }

  async execute(): Promise<FailoverResult> {
    this.heldReads = this.readWhileHeld();
    const released = await this.awaitRelease();
    const settled = this.heldReads?.settle(released, this.releasedAtMs ?? Date.now()) ?? [];
    for (const [id, read] of settled) this.readAheads.set(id, read);
    let verdict: Verdict = released ? 'go' : 'stop';
    const steps = verdict === 'go' ? this.input.runbook.steps : [];
    for (const [index, step] of steps.entries()) {
      if (this.abortRequest) break;
      if (!this.preflightDone && changesEstate(step)) {
        verdict = await this.runLeaf(automaticPreflightStep());
        if (verdict === 'stop') break;
      }
      const next = steps[index + 1];
      for (const [id, read] of readAheadsFor(step, next, this.input.runbook, this.readAheads))
        this.readAheads.set(id, read);
      verdict =
        step.kind === 'parallel'
          ? (await Promise.all(step.steps.map((inner) => this.runLeaf(inner, step.id)))).includes('stop')
            ? 'stop'
            : 'go'
          : await this.runLeaf(step);
      await this.ensureFollowUps();
      if (verdict === 'stop') break;
    }
    this.stepsEnded = true;
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
      authorization: this.auth.authorization,
      awaiting,
      ...(this.heldBy() === undefined ? {} : { heldBy: this.heldBy() }),
      ...(this.rollback === undefined ? {} : { rollback: this.rollback }),
      ...(this.followUps.length === 0 ? {} : { followUps: this.followUps }),
    };
  }

  /** The parent holding this run under its lock, while it does (nothing in the timeline yet). */
  private heldBy(): string | undefined {
    const parent = workflowInfo().parent?.workflowId;
    return this.released || this.status !== 'running' || this.timeline.entries.length > 0
      ? undefined
      : parent;
  }

  /**
   * Rejects, before anything is written to history, a decision that is not signed by someone the policy lets
   * decide (or abort) this run, that is for a step that is not paused, or a second skip by the same operator of
   * a step whose skip needs several.
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
    if (
      verified.signed.statement.action === 'skip' &&
      gate.skipApprovers > 1 &&
      !verified.breakGlass &&
      gate.skips.some((skip) => skip.owner === verified.owner)
    ) {
      throw new Error(
        `${verified.owner} already asked to skip "${stepId}"; skipping it needs ${gate.skipApprovers} different operators, so another operator must run drctl skip`,
      );
    }
  }

  decide(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['retry', 'skip', 'abort']);
    const { statement } = verified.signed;
    const action = statement.action as DecisionAction;
    const stepId = statement.stepId ?? '';
    const gate = this.gates.get(stepId);
    this.operatorActions.push(recordedAction(verified, action, new Date().toISOString()));
    if (gate && action === 'skip' && gate.skipApprovers > 1) {
      gate.skips.push(verified);
      const rule: ApprovalRule = { count: gate.skipApprovers, forbidInitiator: false };
      const skippedBy = owners(gate.skips);
      const needed = OperatorAuthority.satisfied(rule, gate.skips) ? 0 : rule.count - skippedBy.length;
      gate.awaiting.approvers = {
        rule: `skip by ${gate.skipApprovers} different operators`,
        approvedBy: skippedBy,
        needed,
      };
      if (needed > 0)
        return { accepted: true, stepId, action, operator: verified.owner, approvalsNeeded: needed };
    }
    if (gate) gate.decision = action;
    if (action === 'abort') {
      this.requestAbort({
        operator: verified.owner,
        reason: statement.reason,
        rollback: statement.detail?.rollback !== 'false',
      });
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
      { stepId: gate.awaiting.stepId, rule: gate.rule ?? { count: 1, forbidInitiator: false } },
      verified,
      { initiator: this.auth.initiator.owner, approvals: gate.approvals },
    );
  }

  approve(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['approve']);
    const gate = this.approvalGate(verified.signed.statement.stepId);
    const rule = gate.rule ?? { count: 1, forbidInitiator: false };
    gate.approvals.push(verified);
    const approvedBy = owners(gate.approvals);
    const needed = OperatorAuthority.satisfied(rule, gate.approvals) ? 0 : rule.count - approvedBy.length;
    gate.awaiting.approvers = { rule: describeRule(rule), approvedBy, needed };
    if (needed === 0) gate.released = true;
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
    if (this.status !== 'running')
      throw ApplicationFailure.nonRetryable(
        `the run has already ended (${this.status})`,
        UpdateRefusal.RunEnded,
      );
    if (this.abortRequest)
      throw ApplicationFailure.nonRetryable(
        `an abort is already under way (by ${this.abortRequest.operator})`,
        UpdateRefusal.AbortUnderWay,
      );
  }

  /** Whether the run was aborted by a cancel through Temporal (`cancelledThroughTemporal`). */
  get abortedByTemporalCancel(): boolean {
    return this.abortRequest?.operator === TEMPORAL_CANCEL;
  }

  /**
   * A cancel through Temporal (its UI, `temporal workflow cancel`), not `drctl abort`: taken as an abort with
   * rollback while steps still run, so the run stops at a safe point and undoes what it did instead of ending where
   * it stands. Unsigned: the run's history records the cancel request and who sent it (Temporal does not tell the
   * workflow), and the run's failure says it was cancelled so. Once the steps have ended (a step stopped the run,
   * or all succeeded) it changes nothing: the run ends as it would have.
   */
  cancelledThroughTemporal(): void {
    if (this.abortRequest !== undefined || this.status !== 'running' || this.stepsEnded) return;
    this.requestAbort({ operator: TEMPORAL_CANCEL, reason: TEMPORAL_CANCEL_REASON, rollback: true });
  }

  abort(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['abort']);
    const { statement } = verified.signed;
    const rollback = statement.detail?.rollback !== 'false';
    this.operatorActions.push(recordedAction(verified, 'abort', new Date().toISOString()));
    this.requestAbort({ operator: verified.owner, reason: statement.reason, rollback });
    return {
      accepted: true,
      action: rollback ? 'abort with rollback' : 'abort without rollback',
      operator: verified.owner,
    };
  }

  /**
   * The drill that took the lock for this run has injected its failure (or failed to): the run may begin. Only
   * a run held by its parent drill listens; the drill's signed start is the run's authority, so the release is
   * recorded in the timeline, not among the signed operator actions.
   */
  release(request: ReleaseRequest): void {
    if (this.released || this.dropped !== undefined) return;
    if (this.input.options.heldByParent !== undefined) {
      this.releaseNudges += 1;
      return;
    }
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
        approvers: { rule: describeRule(rule), approvedBy: [], needed: rule.count },
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
      if (gate.released) {
        const glass = this.auth.authorization.breakGlassUses.find((use) => use.stepId === stepId);
        return {
          outcome: 'approved',
          approvedBy: glass
            ? [`BREAK-GLASS key ${glass.keyId} (held by ${glass.holder}), in place of ${describeRule(rule)}`]
            : owners(gate.approvals),
        };
      }
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
    // A read ahead serves the first attempt only: a retry reads again.
    let readAhead = this.readAheads.get(step.id);
    this.readAheads.delete(step.id);
    for (;;) {
      if (this.abortRequest) return 'stop';
      const entry = this.timeline.start(step, group, stepKind(step.kind).mutates);
      const scope = new CancellationScope();
      this.runningScopes.add(scope);
      const gates: OperatorGates = {
        awaitApproval: (stepId, request) => this.awaitApproval(stepId, request),
        beforeEffect: (record) => this.recordEffect(record, step, entry),
        preflightPassed: () => this.preflightPassed(),
        heldChecks: () => this.takeHeldChecks(step, entry),
      };
      try {
        const outcome = await scope.run(() =>
          performStep(step, this.state, gates, (checks) => (entry.checks = checks), readAhead),
        );
        if (outcome.abortedWhileWaiting !== undefined) {
          // Stopped at an operator's gate inside the step (a promotion its lag gate refused): not done. Settled as
          // interrupted, a promotion counts as possible (the rollback keeps the fence), not as completed.
          this.settleEffect(step.id, 'interrupted');
          this.timeline.interrupt(entry, outcome.abortedWhileWaiting);
          return 'stop';
        }
        this.settleEffect(step.id, 'done');
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
        readAhead = undefined;
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
      gate.skips.length > 0 ? owners(gate.skips) : entry.decisions.slice(-1).map((d) => d.operator);
    return { action: gate.decision ?? 'abort', skippedBy };
  }

  /**
   * Holds a run its parent started held (under the runbook's lock, changing nothing) until the parent releases it:
   * a drill once it has injected its failure, an evacuation once the run's wave starts it. False if it never did.
   */
  private async awaitRelease(): Promise<boolean> {
    const { heldByParent } = this.input.options;
    const parent = workflowInfo().parent;
    if (heldByParent !== undefined && parent !== undefined) {
      const outcome = await awaitParentRelease({
        parent,
        runbookId: this.input.runbook.id,
        ...(heldByParent.withinMs === undefined ? {} : { withinMs: heldByParent.withinMs }),
        nudges: () => this.releaseNudges,
        aborted: () => this.abortRequest !== undefined,
      });
      if (outcome.released) {
        this.releasedAtMs = outcome.atMs;
        return (this.released = true);
      }
      this.recordNotReleased(parent.workflowId, outcome.why);
      return false;
    }
    const holdMs = this.input.options.holdUntilReleasedMs;
    if (holdMs === undefined) return true;
    const answered = await condition(
      () => this.released || this.dropped !== undefined || this.abortRequest !== undefined,
      holdMs,
    );
    if (this.released) return true;
    const holder = workflowInfo().parent?.workflowId ?? 'the run that started it';
    this.recordNotReleased(
      holder,
      !answered
        ? `${holder} did not release this run within ${Math.round(holdMs / 60_000)} min (the hold ran out)`
        : this.dropped !== undefined
          ? `${holder} called this run off (${this.dropped})`
          : `aborted before ${holder} released this run`,
    );
    return false;
  }

  /** Starts the reads a held run makes before its release, when its parent asked for them. */
  private readWhileHeld(): HeldReads | undefined {
    if (this.input.options.heldByParent?.readsWhileHeld !== true || workflowInfo().parent === undefined)
      return undefined;
    return hasPatch(READS_WHILE_HELD_PATCH) ? HeldReads.start(this.input.runbook) : undefined;
  }

  /**
   * The checks `step` (a pre-flight) made while the run was held, once. Its timeline entry says they were, and
   * counts their provider time apart (`heldProviderMs`): it was spent before the step began.
   */
  private takeHeldChecks(step: LeafStep, entry: TimelineEntry): Promise<CheckResult[]> | undefined {
    const held = this.heldReads?.takeChecks(step.id);
    if (held === undefined) return undefined;
    entry.facts = { ...entry.facts, readWhileHeld: true, endedBeforeReleaseMs: held.endedBeforeReleaseMs };
    return held.checks.then((checks) => {
      entry.facts = { ...entry.facts, heldProviderMs: Math.max(0, ...checks.map((c) => c.providerMs ?? 0)) };
      return checks.map(({ providerMs: _spentWhileHeld, ...check }) => check);
    });
  }

  /** The run's one timeline entry when its parent never released it: why, and that nothing was changed. */
  private recordNotReleased(holder: string, why: string): void {
    const entry = this.timeline.start({
      id: 'hold',
      kind: 'hold',
      title: `Held under its lock until ${holder} released it`,
    });
    this.timeline.fail(entry, { type: NOT_RELEASED_ERROR, message: `${why}; nothing was changed` }, 0, 0);
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
          // Nor a cancel of this run (from Temporal's UI or CLI) is passed on: the old primary stays to be fenced.
          cancellationType: childCancellation(),
          typedSearchAttributes: [
            { key: RUNBOOK_KEY, value: runbook.id },
            { key: KIND_KEY, value: 'fence-follow-up' },
          ],
          args: [
            {
              runbookId: runbook.id,
              database: databaseInput(runbook, database),
              failover: { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId },
              authorization: {
                runbookId: this.auth.authorization.runbookId,
                runbookHash: this.auth.authorization.runbookHash,
              },
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
    this.heldReads?.cancel();
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
  private recordEffect(record: EffectRecord, step: LeafStep, entry: TimelineEntry): RecordedEffect {
    const earlier = this.effects.find((effect) => effect.stepId === step.id);
    // Only the execution that made the earlier record may replace it: after an operator's retry, the earlier
    // execution may have acted, and its undo is what the run changed.
    if (record.supersedes && earlier !== undefined && this.effectRecordedBy.get(step.id) === entry) {
      // The effect the earlier record announced refused before acting: this record is what the step changes.
      entry.before = record.before;
      earlier.willChange = record.willChange;
      if (record.undo === undefined) delete earlier.undo;
      else earlier.undo = record.undo;
      return { undo: earlier.undo, byEarlierExecution: false, willChange: earlier.willChange };
    }
    if (record.mergedWithEarlier && earlier !== undefined) {
      // A later execution's kind merged the earlier undo with what it read now: the merge is what the run changed.
      entry.before = record.before;
      earlier.willChange = earlier.willChange || record.willChange;
      if (record.undo !== undefined) earlier.undo = record.undo;
      return { undo: earlier.undo, byEarlierExecution: false, willChange: earlier.willChange };
    }
    const first = this.timeline.entries.find((e) => e.stepId === step.id && e.before !== undefined);
    if (record.before !== undefined) entry.before = first?.before ?? record.before;
    if (earlier !== undefined) {
      // A retried step keeps the state read before its first attempt: that is what the run changed.
      earlier.state = 'started';
      earlier.willChange = earlier.willChange || record.willChange;
      const kept = earlier.undo !== undefined;
      if (!kept && record.undo !== undefined) earlier.undo = record.undo;
      const previous = this.timeline.entries.filter((e) => e.stepId === step.id && e !== entry).at(-1);
      return {
        undo: earlier.undo,
        byEarlierExecution: kept && this.effectRecordedBy.get(step.id) !== entry,
        willChange: earlier.willChange,
        ...(previous?.error === undefined ? {} : { earlierFailure: previous.error.type }),
      };
    }
    this.effectRecordedBy.set(step.id, entry);
    this.effects.push({
      stepId: step.id,
      kind: step.kind,
      willChange: record.willChange,
      state: 'started',
      ...(record.undo === undefined ? {} : { undo: record.undo }),
      ...(record.promotion === undefined ? {} : { promotion: record.promotion }),
    });
    return { undo: record.undo, byEarlierExecution: false, willChange: record.willChange };
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
    const parentRun = workflowInfo().parent?.runId;
    const verified = this.auth.authority.verify(signed, {
      ...this.expectation(['abort'], checkFreshness),
      // Signed for the evacuation's run: bound to it, as a statement for this run is to this one.
      ...(this.bindsRun && parentRun !== undefined ? { temporalRunId: parentRun } : {}),
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
      runStartedAt: workflowInfo().startTime.getTime(),
      ...(this.bindsRun ? { temporalRunId: workflowInfo().runId } : {}),
    };
  }

  /** Whether this run takes operator statements only when they name it (`SIGNED_RUN_PATCH`). */
  private get bindsRun(): boolean {
    return hasPatch(SIGNED_RUN_PATCH);
  }
}

/**
 * Runs that began after this accept an operator's statement (approve, retry, skip, abort) only when it names this
 * run's Temporal run id (`detail.run`, which the CLI signs from the run's progress). Runs recorded before accepted
 * statements naming only the workflow id, which every run of the runbook shares.
 */
export const SIGNED_RUN_PATCH = 'operator-statements-name-their-run';

/** The distinct verified owners of some approvals, in order. */
function owners(actions: readonly VerifiedAction[]): string[] {
  return [...new Set(actions.map((action) => action.owner))];
}
