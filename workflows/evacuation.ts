import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { approvalRuleOf } from '../auth/approval-rule';
import type { Expectation, VerifiedAction } from '../auth/operator-authority';
import type { StatementAction } from '../auth/permissions';
import { INITIATOR_KEY, KIND_KEY, OUTCOME_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import type { EvacuationCover } from '../evacuations/evacuation-hash';
import {
  FINAL_SERVICE_STATES,
  type AbortForward,
  type EvacuationActivities,
  type EvacuationProgress,
  type EvacuationRequest,
  type EvacuationResult,
  type RunSnapshot,
  type ServiceProgress,
  type WaveProgress,
} from '../evacuations/evacuation-types';
import { PermanentFailure } from '../common/failure-types';
import { HELD_REPORT_MEMO_KEY } from '../common/held-release';
import { runLockId } from '../common/run-lock';
import { authorizeEvacuation, type AuthorizedEvacuation } from './evacuation-authority';
import type { EvacuationHeld } from './evacuation-drill-types';
import { READS_WHILE_HELD_PATCH } from './held-reads';
import { leafStepsOf } from './leaf-steps';
import { awaitParentRelease, releaseHeld } from './parent-release';
import {
  abortUpdate,
  approveUpdate,
  releaseSignal,
  type AbortRequest,
  type OperatorAck,
  type ReleaseRequest,
  type SignedOperatorUpdate,
} from './operator-decision';
import { idPrefixes } from '../common/id-prefixes';
import { recordBreakGlass, recordedAction, unstartedOutcome, type StartRule } from './run-authority';
import type { failoverWorkflow } from './failover';
import type {
  FailoverProgress,
  FailoverRequest,
  FailoverResult,
  OperatorAction,
  RunStatus,
} from './run-types';
import { decidePatchesAtStart } from './patches-at-start';
import { childCancellation } from './child-cancellation';
import { innermostMessage } from './innermost-message';
import { forwardAnswer } from '../evacuations/abort-forward';

export const evacuationProgressQuery = defineQuery<EvacuationProgress>('evacuationProgress');
/** Sent by an evacuation a drill started held, to the drill: it holds every runbook's lock, or could not. */
export const evacuationHeldSignal = defineSignal<[EvacuationHeld]>('evacuationHeld');
/** The same name as a failover's progress query: `drctl approve|abort` read what they sign for from it. */
const operatorProgressQuery = defineQuery<FailoverProgress>('progress');

const { watchRun } = proxyActivities<EvacuationActivities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});
const { abortRun } = proxyActivities<EvacuationActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 5 },
});

/**
 * Every evacuation takes all its runbooks' locks before its first effect (before, only a drill's did, one lock
 * after another). Runs recorded before keep their path.
 */
export const LOCKS_FIRST_PATCH = 'evacuation-takes-every-lock-first';

/**
 * Each release (or drop) of a held failover is recorded in the evacuation's memo before its signal, and the
 * held failover acts only on that record (a `release` signal anyone can send); it waits with no deadline while
 * the evacuation runs, and ends on its own once the evacuation ended without releasing it. Runs recorded before
 * hold with `HELD_FAILOVER_MS` and act on the signal.
 */
export const RELEASES_RECORDED_PATCH = 'held-failover-releases-recorded';

/**
 * Runs that began after this repeat a pass (open waves, start what may start) until it changes nothing: a wave
 * whose services were all blocked as it opened left the next wave closed until some child's history changed (for
 * a paused service, until an operator acted; under `stop`, never). They also skip the services a `stop` holds
 * back only once no service is paused (a paused one may still succeed: an approval step pauses it too).
 */
export const PASSES_SETTLE_PATCH = 'evacuation-passes-settle';

/**
 * Runs that began after this start a service only while every service of the waves before its own is settled. A
 * wave opened while an earlier service was paused (its approval step) stayed open once the operator resumed it,
 * and its services started alongside the resumed one: an application's failover beside its database's.
 */
export const WAVES_STAY_ORDERED_PATCH = 'evacuation-waves-stay-ordered';

/**
 * Runs that began after this end with their services skipped, saying why, when the drill that holds them is gone
 * (terminated, timed out) before they report holding the locks. Before it, the report's failed signal failed the
 * evacuation without a result ("Unable to signal external workflow because it was not found").
 */
export const DRILL_GONE_PATCH = 'evacuation-drill-gone';

/**
 * How long a failover an evacuation started held waited for its wave to release it, in runs recorded before
 * `RELEASES_RECORDED_PATCH`: a day. A failover whose hold ran out ended having changed nothing, and freed its
 * lock; its service said so at once (failed, "the hold ran out").
 */
export const HELD_FAILOVER_MS = 24 * 3_600_000;

/**
 * Runs that began after this close only once the watch of each service's failover has returned (`watchRun`: it
 * returns as soon as it sees the failover closed), at most `WATCHES_END_WAIT_MS`. Before, the run closed on its last
 * failover's close while that watch still ran; its answer, arriving as the closing workflow task completed, made
 * Temporal refuse the task (UnhandledCommand) and the worker replay the whole history to close again: a failed
 * workflow task in every dashboard, and seconds of replay for a large evacuation.
 */
export const ENDS_AFTER_ITS_WATCHES_PATCH = 'evacuation-ends-after-its-watches';

/**
 * An evacuation ends `aborted` only if its abort stopped something: a service it skipped that could still have
 * started, or a failover that took the forwarded abort (its record holds the abort's nonce) and ended aborted.
 * Before, an abort arriving in the same workflow task as the last failover's end passed its validator (the
 * services not yet seen ended), stopped nothing, and the evacuation ended "aborted" though every service had ended
 * on its own: a false record. Such an abort stays on record among the operator actions; the evacuation ends as
 * its services did.
 */
export const ABORTED_ONLY_IF_IT_STOPPED_PATCH = 'evacuation-aborted-only-if-it-stopped';

/** How long an ending evacuation waits for its watches of the failovers to return (a watch's worker may be down). */
export const WATCHES_END_WAIT_MS = 10_000;

/** How many services a refusal names with their state (an evacuation may have hundreds). */
const ENDED_SERVICES_SHOWN = 5;

/** How long an ending evacuation waits for the failovers it let go to close (their locks free as it ends). */
export const DROPPED_CLOSE_WAIT_MS = 60_000;

/**
 * How many held failovers one workflow task starts. Each start carries the signed evacuation (its plan and every
 * runbook's sha256, a few hundred bytes a service): 200 services at once would put megabytes in one task's
 * reply, past Temporal's gRPC message limit. 25 a task keep it well under; 200 services take 8 tasks.
 */
export const LOCKS_PER_WORKFLOW_TASK = 25;

/**
 * Evacuates a region: runs each runbook of an evacuation as a child failover, under its runbook's lock (one
 * workflow id per runbook), wave after wave. Before its first effect it takes every runbook's lock (each failover
 * starts held until its wave releases it); if another run holds one, it lets go of those it took and ends refused
 * (`RunbookBusy`), nothing started, naming the field and the run that holds it. A wave opens once every service
 * of the waves before it has succeeded, failed, or paused for an operator; it waits for an approval first if it
 * asks for one. Within a wave at most `concurrency` services run at once, and a service starts only once those
 * it depends on have succeeded. A failed service pauses for an operator (its failover waits for retry|skip|abort)
 * while the others go on; with `onServiceFailure: stop` no new service starts after one fails. Succeeds when
 * every service did; otherwise fails (or ends aborted) with the same progress as the failure's detail.
 */
export async function evacuationWorkflow(request: EvacuationRequest): Promise<EvacuationResult> {
  decidePatchesAtStart();
  let run: EvacuationRun | undefined = undefined;
  const started = (): EvacuationRun => {
    if (run) return run;
    throw new Error(
      'the evacuation is still verifying its start against the access policy; try again in a moment',
    );
  };
  setHandler(evacuationProgressQuery, () => run?.progress() ?? startingProgress(request));
  setHandler(operatorProgressQuery, () => started().operatorProgress());
  setHandler(approveUpdate, (update) => started().approve(update), {
    validator: (update) => started().validateApproval(update),
  });
  setHandler(abortUpdate, (update) => started().abort(update), {
    validator: (update) => started().validateAbort(update),
  });
  const parentId = workflowInfo().parent?.workflowId;
  // Only a parent drill holds its evacuation; its release may come while the start is still being verified.
  let release: ReleaseRequest | undefined;
  let releaseNudges = 0;
  const hold =
    parentId !== undefined && request?.drillHold !== undefined
      ? {
          ...request.drillHold,
          recordsRelease: request.drillHold.recordsRelease === true,
          parentId,
          release: () => release,
          nudges: () => releaseNudges,
        }
      : undefined;
  if (hold)
    setHandler(releaseSignal, (signal) => {
      releaseNudges += 1;
      release ??= signal;
    });
  const start = await authorizeEvacuation(request, startRule(parentId)).catch((error: unknown) => {
    upsertSearchAttributes([{ key: OUTCOME_KEY, value: unstartedOutcome(error) }]);
    throw error;
  });
  run = new EvacuationRun(start, hold);
  const result = await run.execute();
  const refusal = run.refusal();
  upsertSearchAttributes([{ key: OUTCOME_KEY, value: refusal === undefined ? result.status : 'refused' }]);
  if (refusal !== undefined) {
    throw ApplicationFailure.nonRetryable(
      `${result.workflowId} (evacuation ${result.evacuationId}) refused, nothing started: ${refusal}. An evacuation changes nothing until it holds every runbook's lock: let that run end (drctl status <run> --follow), then start the evacuation again. Abort that run only if it must not finish (an abort partway rolls it back).`,
      PermanentFailure.RunbookBusy,
      result,
    );
  }
  if (result.status !== 'succeeded') {
    const unsucceeded = result.services.filter((service) => service.state !== 'succeeded');
    throw ApplicationFailure.nonRetryable(
      `evacuation ${result.evacuationId} ${result.status}: ${unsucceeded.map((s) => `${s.runbookId} ${s.state}`).join(', ')}`,
      result.status === 'aborted' ? 'EvacuationAborted' : 'EvacuationFailed',
      result,
    );
  }
  return result;
}

/**
 * A client starts an evacuation with a fresh signed `evacuate` statement for this run. An evacuation a drill
 * started runs on the drill's start: its `drill` statement, or the standing `schedule create` statement of the
 * schedule that started the drill; the signer must still hold `drill` on the evacuation.
 */
function startRule(parentId: string | undefined): StartRule {
  // drctl starts an evacuation REJECT_DUPLICATE, but any client may start another run under its id.
  if (parentId === undefined) return { actions: ['evacuate'], onceAcrossRuns: true };
  return {
    actions: [],
    standing: { actions: ['drill', 'schedule'], runIds: idPrefixes(parentId), alsoRequires: ['drill'] },
  };
}

/** How a drill holds the evacuation it started: every runbook's lock taken, nothing started until it injected. */
interface DrillHold {
  /** How long the evacuation waits, holding every lock and changing nothing, for the drill's release. */
  releaseWithinMs: number;
  /** How long each held failover waits for the evacuation to release it (its wave may wait for an approval). */
  failoverHoldMs: number;
  /**
   * The drill records its release in its memo and reads this evacuation's report of its locks from this one's
   * (`common/held-release.ts`): both act on records, not on signals anyone could send. False in drills
   * recorded before.
   */
  recordsRelease: boolean;
  parentId: string;
  release: () => ReleaseRequest | undefined;
  /** How many `release` signals came: with `recordsRelease` each only makes the evacuation read the drill. */
  nudges: () => number;
}

/** What the progress query answers while the start is being verified. */
function startingProgress(request: EvacuationRequest): EvacuationProgress {
  const info = workflowInfo();
  return {
    workflowId: info.workflowId,
    evacuationId: request?.evacuation?.id ?? '?',
    title: '',
    status: 'running',
    reason: request?.start?.statement?.reason ?? '',
    initiator: '(verifying)',
    startedAt: info.startTime.toISOString(),
    waves: [],
    services: [],
    operatorActions: [],
    awaiting: [],
  };
}

class EvacuationRun {
  private readonly services: ServiceProgress[];
  private readonly waves: WaveProgress[];
  private readonly operatorActions: OperatorAction[] = [];
  private readonly approvals = new Map<string, VerifiedAction[]>();
  private readonly usedNonces = new Set<string>();
  private opened = 0;
  private changed = false;
  private abortRequest: AbortRequest | undefined;
  private abortUpdate: SignedOperatorUpdate | undefined;
  private abortSent = new Set<string>();
  private readonly abortForwards: AbortForward[] = [];
  /** The abort skipped a service that could still start, or a failover took it and ended aborted. */
  private stoppedByAbort = false;
  private status: RunStatus = 'running';
  private endedAt: string | undefined;
  private readonly evacuation: EvacuationCover['evacuation'];
  private readonly reason: string;
  private readonly initiator: string;
  /** Failovers started held (each holds its runbook's lock), by runbook, until their wave releases them. */
  private readonly held = new Map<string, ChildWorkflowHandle<typeof failoverWorkflow>>();
  private readonly drops: Array<Promise<void>> = [];
  /** The services whose lock another run holds, when the evacuation could not take every lock. */
  private refused: ServiceProgress[] = [];
  /** Its start is settled: every lock taken (or none to take, in a run recorded before they were). */
  private locksTaken = false;
  /**
   * It records each release of a held failover in its memo, and its held failovers act only on what it recorded
   * (`RELEASES_RECORDED_PATCH`); false in runs recorded before.
   */
  private recordsReleases = false;
  /** Runs that began after `PASSES_SETTLE_PATCH`. */
  private passesSettle = false;
  /** Runs that began after `WAVES_STAY_ORDERED_PATCH`. */
  private wavesStayOrdered = false;
  /** The runbooks whose held failovers make their pre-flight while held: those its first wave starts at once. */
  private readsWhileHeld: ReadonlySet<string> = new Set();
  /** How many services' failovers are still watched (`watch`). */
  private watching = 0;

  constructor(
    private readonly start: AuthorizedEvacuation,
    private readonly hold?: DrillHold,
  ) {
    this.evacuation = start.cover.evacuation;
    this.reason = start.initiator.signed.statement.reason;
    this.initiator = start.initiator.owner;
    this.usedNonces.add(start.initiator.signed.statement.nonce);
    this.waves = this.evacuation.waves.map((wave) => ({
      id: wave.id,
      ...(wave.title === undefined ? {} : { title: wave.title }),
      state: 'waiting',
      concurrency: wave.concurrency,
    }));
    this.services = this.evacuation.waves.flatMap((wave) =>
      wave.runbooks.map((service) => {
        const runbook = start.runbooks[service.runbook];
        return {
          runbookId: service.runbook,
          wave: wave.id,
          dependsOn: service.dependsOn,
          state: 'waiting' as const,
          currentSteps: [],
          stepsDone: 0,
          totalSteps: runbook ? leafStepsOf(runbook).length : 0,
        };
      }),
    );
    this.operatorActions.push(
      recordedAction(start.initiator, 'start', workflowInfo().startTime.toISOString()),
    );
  }

  async execute(): Promise<EvacuationResult> {
    const locksFirst = hasPatch(LOCKS_FIRST_PATCH);
    this.passesSettle = hasPatch(PASSES_SETTLE_PATCH);
    this.wavesStayOrdered = hasPatch(WAVES_STAY_ORDERED_PATCH);
    this.recordsReleases = hasPatch(RELEASES_RECORDED_PATCH);
    if (locksFirst || this.hold) {
      // Not a drill's: its failovers' pre-flight must see the failure the drill injects once it holds the locks.
      if (this.recordsReleases && !this.hold && hasPatch(READS_WHILE_HELD_PATCH))
        this.readsWhileHeld = this.startedAtOnce();
      this.refused = await this.takeLocks(this.hold?.failoverHoldMs ?? HELD_FAILOVER_MS, !locksFirst);
      this.locksTaken = this.refused.length === 0;
      const missed = this.refusal();
      if (this.hold) await this.awaitDrill(this.hold, missed && `the drill ${missed}`);
      else if (missed !== undefined) this.skipRest(`the evacuation ${missed}`);
    } else {
      this.locksTaken = true;
    }
    while (!this.allFinal()) {
      if (this.abortRequest) {
        await this.abortChildren();
        const honest = hasPatch(ABORTED_ONLY_IF_IT_STOPPED_PATCH);
        const unstarted = this.services.filter((s) => s.state === 'waiting' || s.state === 'blocked');
        const never = new Map(
          unstarted.map((service) => [service, honest ? this.neverToStart(service) : undefined]),
        );
        for (const service of unstarted) {
          const why = never.get(service);
          this.settle(
            service,
            'skipped',
            `not started: ${why ?? `the evacuation was aborted by ${this.abortRequest.operator}`}`,
          );
          if (why === undefined) this.stoppedByAbort = true;
        }
      } else if (this.passesSettle) {
        for (let unchanged = false; !unchanged;) {
          const before = this.passState();
          this.openWaves();
          const starting = this.eligible();
          await Promise.all(starting.map((service) => this.startService(service)));
          unchanged = starting.length === 0 && this.passState() === before;
        }
      } else {
        this.openWaves();
        await Promise.all(this.eligible().map((service) => this.startService(service)));
      }
      this.updateWaves();
      if (this.allFinal()) break;
      await condition(() => this.changed);
      this.changed = false;
    }
    // A dropped failover closes within moments (it reads this run's record and ends); one that does not (its
    // worker down) does not keep the evacuation open: it ends on its own once this run has ended.
    if (this.recordsReleases && this.drops.length > 0)
      await Promise.race([Promise.all(this.drops), sleep(DROPPED_CLOSE_WAIT_MS)]);
    else await Promise.all(this.drops);
    if (this.watching > 0 && hasPatch(ENDS_AFTER_ITS_WATCHES_PATCH))
      await condition(() => this.watching === 0, WATCHES_END_WAIT_MS);
    // Every service is final: each wave is settled, a gated one whose services were skipped (an abort) included,
    // so the closed evacuation shows no wave running and no approval to give. Not before the wait for dropped
    // failovers above: runs recorded before this took an approval of a gate in that wait, and must replay it.
    for (const wave of this.waves) wave.state = 'settled';
    const succeeded = this.services.every((service) => service.state === 'succeeded');
    const aborted =
      this.abortRequest !== undefined && (this.stoppedByAbort || !hasPatch(ABORTED_ONLY_IF_IT_STOPPED_PATCH));
    this.status = aborted ? 'aborted' : succeeded ? 'succeeded' : 'failed';
    this.endedAt = new Date().toISOString();
    return this.progress() as EvacuationResult;
  }

  progress(): EvacuationProgress {
    // Once every service has ended nothing waits for an approval, though a gated wave keeps its state until the close.
    const gates = this.allFinal() ? [] : this.waves.filter((wave) => wave.state === 'awaiting-approval');
    const paused = this.services.some((service) => service.state === 'paused');
    return {
      workflowId: workflowInfo().workflowId,
      evacuationId: this.evacuation.id,
      title: this.evacuation.title,
      status: this.status === 'running' && (gates.length > 0 || paused) ? 'paused' : this.status,
      reason: this.reason,
      initiator: this.initiator,
      startedAt: workflowInfo().startTime.toISOString(),
      ...(this.endedAt === undefined ? {} : { endedAt: this.endedAt }),
      waves: this.waves,
      services: this.services,
      operatorActions: this.operatorActions,
      ...(this.abortForwards.length === 0 ? {} : { abortForwards: this.abortForwards }),
      ...this.settledAuthorization(),
      awaiting: gates.map((wave) => {
        const approval = this.waveDefinition(wave.id).approval;
        return {
          stepId: wave.id,
          kind: 'approval' as const,
          prompt: approval?.prompt ?? `approve wave ${wave.id} to start its services`,
          twoPerson: approval?.twoPerson ?? false,
        };
      }),
    };
  }

  /**
   * The governing policy, shown once the start is settled: verified and every runbook's lock taken, or ended. A
   * client waits for it (`awaitStartVerdict`), so a start refused for a lock reports the refusal, not a start.
   */
  private settledAuthorization(): Pick<EvacuationProgress, 'authorization'> {
    return this.locksTaken || this.status !== 'running' ? { authorization: this.start.authorization } : {};
  }

  /** The evacuation in the shape of a failover's progress: what `drctl approve|abort` sign for. */
  operatorProgress(): FailoverProgress {
    const progress = this.progress();
    return {
      workflowId: progress.workflowId,
      runId: workflowInfo().runId,
      runbookId: progress.evacuationId,
      status: progress.status,
      reason: progress.reason,
      initiator: progress.initiator,
      startedAt: progress.startedAt,
      ...(progress.endedAt === undefined ? {} : { endedAt: progress.endedAt }),
      currentSteps: this.services.filter((s) => s.state === 'running').map((s) => s.runbookId),
      timeline: [],
      totalSteps: this.services.length,
      operatorActions: progress.operatorActions,
      ...this.settledAuthorization(),
      awaiting: progress.awaiting,
    };
  }

  validateApproval(update: SignedOperatorUpdate): void {
    const verified = this.verify(update, ['approve'], true);
    // After an abort a gated wave still shows its gate until the run closes: an approval there would start nothing.
    if (this.allFinal())
      throw new Error(
        `${this.allEnded()}, so no wave is left to approve; the evacuation is closing (drctl status ${workflowInfo().workflowId})`,
      );
    const wave = this.waitingWave(verified.signed.statement.stepId);
    this.start.authority.checkApproval(
      {
        stepId: wave.id,
        rule: approvalRuleOf({ twoPerson: this.waveDefinition(wave.id).approval?.twoPerson }),
      },
      verified,
      { initiator: this.initiator, approvals: this.approvals.get(wave.id) ?? [] },
    );
  }

  approve(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['approve']);
    const wave = this.waitingWave(verified.signed.statement.stepId);
    this.approvals.set(wave.id, [...(this.approvals.get(wave.id) ?? []), verified]);
    wave.approvedBy = verified.owner;
    this.operatorActions.push(recordedAction(verified, 'approve', new Date().toISOString()));
    this.changed = true;
    return {
      accepted: true,
      stepId: wave.id,
      action: 'approve',
      operator: verified.owner,
      approvalsNeeded: 0,
    };
  }

  /** A refusal's opening once every service has ended: each one's end, the first few, then how many more. */
  private allEnded(): string {
    const shown = this.services.slice(0, ENDED_SERVICES_SHOWN).map((s) => `${s.runbookId} ${s.state}`);
    const more = this.services.length - shown.length;
    return `every service of the evacuation has already ended (${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''})`;
  }

  validateAbort(update: SignedOperatorUpdate): void {
    const verified = this.verify(update, ['abort'], true);
    if (this.status !== 'running') throw new Error(`the evacuation has already ended (${this.status})`);
    if (this.abortRequest)
      throw new Error(`an abort is already under way (by ${this.abortRequest.operator})`);
    // Accepted now, the abort would stop nothing and roll nothing back, yet the closing run would say "aborted".
    if (this.allFinal())
      throw new Error(
        `${this.allEnded()}, so there is nothing left to abort; the evacuation is closing (drctl status ${workflowInfo().workflowId}). To undo a service that succeeded, fail it back: drctl failback <runbook>`,
      );
    // The abort is forwarded to each failover under way, which accepts it only from an operator who may abort its
    // runbook. Accepted here regardless, the evacuation would end "aborted" while those failovers went on.
    const forbidden = this.services.filter(
      (service) =>
        (service.state === 'running' || service.state === 'paused') &&
        !this.start.authority.allows(verified.owner, 'abort', service.runbookId),
    );
    if (forbidden.length > 0)
      throw new Error(
        `not permitted: ${verified.owner} may not abort ${forbidden.map((service) => service.runbookId).join(', ')} under the access policy, and ${forbidden.length === 1 ? 'its failover is' : 'their failovers are'} under way: the evacuation's abort is forwarded to each one, so nothing was aborted; ask an operator who holds abort on ${forbidden.length === 1 ? 'that runbook' : 'those runbooks'}`,
      );
  }

  abort(update: SignedOperatorUpdate): OperatorAck {
    const verified = this.accept(update, ['abort']);
    const { statement } = verified.signed;
    const rollback = statement.detail?.rollback !== 'false';
    this.abortRequest = { operator: verified.owner, reason: statement.reason, rollback };
    this.abortUpdate = update;
    this.operatorActions.push(recordedAction(verified, 'abort', new Date().toISOString()));
    this.changed = true;
    return {
      accepted: true,
      action: rollback ? 'abort with rollback' : 'abort without rollback',
      operator: verified.owner,
    };
  }

  private waitingWave(stepId: string | undefined): WaveProgress {
    const waiting = this.waves.filter((wave) => wave.state === 'awaiting-approval');
    const wave = waiting.find((candidate) => candidate.id === stepId);
    if (wave === undefined)
      throw new Error(
        waiting.length === 0
          ? 'no wave of this evacuation is waiting for an approval'
          : `wave "${stepId ?? '(none)'}" is not waiting for an approval; waiting: ${waiting.map((w) => w.id).join(', ')} (pass --step <wave>)`,
      );
    return wave;
  }

  private verify(
    update: SignedOperatorUpdate,
    actions: readonly StatementAction[],
    checkFreshness: boolean,
  ): VerifiedAction {
    const expectation: Expectation = {
      actions,
      runId: workflowInfo().workflowId,
      runbookId: this.start.authorization.runbookId,
      runbookHash: this.start.authorization.runbookHash,
      now: Date.now(),
      checkFreshness,
      usedNonces: this.usedNonces,
    };
    return this.start.authority.verify(update?.signed, expectation);
  }

  /** The handler's side: verified again without the age check (replay runs no validators), nonce spent. */
  private accept(update: SignedOperatorUpdate, actions: readonly StatementAction[]): VerifiedAction {
    let verified: VerifiedAction;
    try {
      verified = this.verify(update, actions, false);
    } catch (error) {
      throw ApplicationFailure.nonRetryable((error as Error).message, 'NotAuthorized');
    }
    this.usedNonces.add(verified.signed.statement.nonce);
    if (verified.breakGlass)
      recordBreakGlass(this.start.authorization, verified, verified.signed.statement.action);
    return verified;
  }

  /**
   * Why a service not yet started could never start, abort or not (its skip is not the abort's doing): a
   * dependency, or a dependency's dependency, ended other than succeeded, or a service failed and the evacuation
   * stops on failure. Undefined while it still could start.
   */
  private neverToStart(service: ServiceProgress, seen = new Set<string>()): string | undefined {
    seen.add(service.runbookId);
    // A failover this abort reached may have ended aborted by now: that loss is the abort's doing.
    const lostOnItsOwn = (s: ServiceProgress) =>
      FINAL_SERVICE_STATES.has(s.state) &&
      s.state !== 'succeeded' &&
      !(s.state === 'aborted' && s.workflowId !== undefined && this.abortSent.has(s.workflowId));
    for (const dependency of service.dependsOn.map((id) => this.service(id))) {
      if (lostOnItsOwn(dependency))
        return `${dependency.runbookId}, which it depends on, ended ${dependency.state}`;
      const unstarted = dependency.state === 'waiting' || dependency.state === 'blocked';
      if (unstarted && !seen.has(dependency.runbookId) && this.neverToStart(dependency, seen) !== undefined)
        return `${dependency.runbookId}, which it depends on, could never start`;
    }
    const failed = this.services.some((s) => s.state !== 'skipped' && lostOnItsOwn(s));
    if (this.evacuation.onServiceFailure === 'stop' && failed)
      return 'a service failed and this evacuation stops on failure';
    return undefined;
  }

  /** Opens the next wave once every service of the opened ones has settled, after its approval if it asks one. */
  private openWaves(): void {
    while (this.opened < this.waves.length) {
      const before = this.services.filter((service) =>
        this.waves.slice(0, this.opened).some((wave) => wave.id === service.wave),
      );
      if (!before.every((service) => this.isSettled(service))) return;
      const wave = this.waves[this.opened] as WaveProgress;
      if (this.waveDefinition(wave.id).approval && wave.approvedBy === undefined) {
        wave.state = 'awaiting-approval';
        return;
      }
      wave.state = 'running';
      this.opened++;
    }
  }

  /** Services that may start now, in order: their wave is open and has a free slot, their dependencies succeeded. */
  private eligible(): ServiceProgress[] {
    const stopping =
      this.evacuation.onServiceFailure === 'stop' &&
      this.services.some((service) => ['failed', 'paused', 'refused', 'aborted'].includes(service.state));
    const openIds = new Set(this.waves.slice(0, this.opened).map((wave) => wave.id));
    if (this.wavesStayOrdered) {
      // A wave whose earlier services are not all settled again (a paused one resumed) starts nothing new.
      const unsettled = new Set(this.services.filter((s) => !this.isSettled(s)).map((s) => s.wave));
      const firstUnsettled = this.waves.findIndex((wave) => unsettled.has(wave.id));
      if (firstUnsettled >= 0)
        for (const wave of this.waves.slice(firstUnsettled + 1)) openIds.delete(wave.id);
    }
    const running = new Map<string, number>();
    for (const service of this.services)
      if (service.state === 'running') running.set(service.wave, (running.get(service.wave) ?? 0) + 1);
    const starting: ServiceProgress[] = [];
    for (const service of this.services) {
      if (!openIds.has(service.wave) || (service.state !== 'waiting' && service.state !== 'blocked'))
        continue;
      const dependencies = service.dependsOn.map((id) => this.service(id));
      const lost = dependencies.find((d) => FINAL_SERVICE_STATES.has(d.state) && d.state !== 'succeeded');
      if (lost) {
        this.settle(
          service,
          'skipped',
          `not started: ${lost.runbookId}, which it depends on, ended ${lost.state}`,
        );
        continue;
      }
      const unmet = dependencies.filter((d) => d.state !== 'succeeded');
      if (unmet.length > 0) {
        service.state = 'blocked';
        service.detail = `waiting for ${unmet.map((d) => `${d.runbookId} (${d.state})`).join(', ')}`;
        continue;
      }
      if (stopping) {
        service.state = 'blocked';
        service.detail = 'not started: a service failed and this evacuation stops on failure';
        continue;
      }
      const slots = this.waveDefinition(service.wave).concurrency - (running.get(service.wave) ?? 0);
      if (slots <= 0) {
        service.state = 'waiting';
        delete service.detail;
        continue;
      }
      running.set(service.wave, (running.get(service.wave) ?? 0) + 1);
      service.state = 'running';
      delete service.detail;
      starting.push(service);
    }
    const mayRecover = this.passesSettle && this.services.some((s) => s.state === 'paused');
    if (stopping && !mayRecover && this.services.every((s) => this.isSettled(s))) {
      for (const service of this.services)
        if (service.state === 'blocked' && service.detail?.startsWith('not started: a service failed'))
          this.settle(service, 'skipped', service.detail);
    }
    return starting;
  }

  /**
   * Takes every runbook's lock before anything changes: each failover starts held, changing nothing until its
   * wave releases it. The runbook whose id sorts first goes alone, so two evacuations of one plan race on that
   * one lock and only one goes on; then the others, `LOCKS_PER_WORKFLOW_TASK` at once, stopping at the first
   * lock another run holds. Runs recorded before `LOCKS_FIRST_PATCH` (`inOrder`) took a drill's locks one after
   * another in wave order.
   * Returns the services whose lock another run holds (none when every lock is taken).
   */
  private async takeLocks(holdMs: number, inOrder: boolean): Promise<ServiceProgress[]> {
    const take = async (service: ServiceProgress): Promise<boolean> => {
      const handle = await this.startFailover(service, holdMs);
      // Runs recorded before LOCKS_FIRST_PATCH (a drill's, in order) learned of a held failover's end only when
      // its wave released it: they must not settle the service earlier, or they replay other commands.
      if (handle !== undefined) {
        if (inOrder) this.held.set(service.runbookId, handle);
        else this.keepHeld(service, handle);
      }
      return handle !== undefined;
    };
    if (inOrder) {
      for (const service of this.services) if (!(await take(service))) return [service];
      return [];
    }
    const [first, ...rest] = [...this.services].sort((a, b) =>
      a.runbookId < b.runbookId ? -1 : a.runbookId > b.runbookId ? 1 : 0,
    );
    if (first === undefined || !(await take(first))) return first === undefined ? [] : [first];
    for (let at = 0; at < rest.length; at += LOCKS_PER_WORKFLOW_TASK) {
      const chunk = rest.slice(at, at + LOCKS_PER_WORKFLOW_TASK);
      const taken = await Promise.all(chunk.map(take));
      const refused = chunk.filter((_, index) => !taken[index]);
      if (refused.length > 0) return refused;
    }
    return [];
  }

  /**
   * The services the first wave starts as soon as every lock is taken: none when it awaits an approval; else those
   * with no dependency, in order, up to the wave's concurrency (as `eligible` starts them).
   */
  private startedAtOnce(): Set<string> {
    const first = this.waves[0];
    if (first === undefined || this.waveDefinition(first.id).approval) return new Set();
    const independent = this.services.filter((s) => s.wave === first.id && s.dependsOn.length === 0);
    return new Set(independent.slice(0, this.waveDefinition(first.id).concurrency).map((s) => s.runbookId));
  }

  /** Why the evacuation could not take every lock (each refused service's field and holder); undefined if it did. */
  refusal(): string | undefined {
    if (this.refused.length === 0) return undefined;
    return `could not take every runbook's lock: ${this.refused.map((s) => s.detail ?? s.runbookId).join('; ')}`;
  }

  /**
   * A failover held for its wave: if it ends before the wave releases it (its hold ran out, or an operator
   * aborted it), its service says so at once, with the failover's own account (nothing was changed).
   */
  private keepHeld(service: ServiceProgress, handle: ChildWorkflowHandle<typeof failoverWorkflow>): void {
    this.held.set(service.runbookId, handle);
    const ended = (result: FailoverResult | undefined, error?: unknown) => {
      if (this.held.get(service.runbookId) !== handle) return;
      this.held.delete(service.runbookId);
      service.workflowId = handle.workflowId;
      service.runId = handle.firstExecutionRunId;
      this.finish(service, result?.status ?? 'failed', result, error);
    };
    void handle.result().then(
      (result: FailoverResult) => ended(result),
      (error: unknown) => ended(recordedResult(error), error),
    );
  }

  /**
   * A drill's evacuation tells the drill whether it holds every lock, then waits for the drill to inject its
   * failure and release it; it runs as any other from there. If a lock was taken (`missed`), or the drill never
   * releases it, every held failover is let go, having changed nothing, and every service is skipped.
   */
  private async awaitDrill(hold: DrillHold, missed: string | undefined): Promise<void> {
    let notStarted = missed;
    const drillGone = `the drill ${hold.parentId} ended before the evacuation reported holding the locks`;
    const drill = workflowInfo().parent;
    if (hold.recordsRelease && drill !== undefined) {
      const report = notStarted === undefined ? { held: true } : { held: false, detail: notStarted };
      upsertMemo({ [HELD_REPORT_MEMO_KEY]: report });
      if (!(await this.reportToDrill(hold, report))) notStarted ??= drillGone;
      else if (notStarted === undefined) {
        const outcome = await awaitParentRelease({
          parent: drill,
          runbookId: this.evacuation.id,
          withinMs: hold.releaseWithinMs,
          nudges: hold.nudges,
          aborted: () => this.abortRequest !== undefined,
          called: 'the evacuation',
        });
        if (outcome.released) return;
        this.stoppedByAbort = this.abortRequest !== undefined;
        notStarted = this.abortRequest
          ? `the evacuation was aborted by ${this.abortRequest.operator} before the drill released it`
          : outcome.why;
      }
    } else if (notStarted === undefined) {
      if (!(await this.reportToDrill(hold, { held: true }))) notStarted = drillGone;
      else {
        const answered = await condition(
          () => hold.release() !== undefined || this.abortRequest !== undefined,
          hold.releaseWithinMs,
        );
        if (hold.release()?.proceed === true && this.abortRequest === undefined) return;
        this.stoppedByAbort = this.abortRequest !== undefined;
        notStarted = this.abortRequest
          ? `the evacuation was aborted by ${this.abortRequest.operator} before the drill released it`
          : answered
            ? `the drill called it off (${hold.release()?.reason ?? ''})`
            : `the drill did not release it within ${Math.round(hold.releaseWithinMs / 60_000)} min`;
      }
    } else {
      await this.reportToDrill(hold, { held: false, detail: notStarted });
    }
    this.skipRest(notStarted);
  }

  /** Tells the drill whether the evacuation holds every lock; false when the drill is gone (see DRILL_GONE_PATCH). */
  private async reportToDrill(hold: DrillHold, report: EvacuationHeld): Promise<boolean> {
    try {
      await getExternalWorkflowHandle(hold.parentId).signal(evacuationHeldSignal, report);
      return true;
    } catch (error) {
      if (!hasPatch(DRILL_GONE_PATCH)) throw error;
      return false;
    }
  }

  /** Every service not yet settled is skipped (a held failover is let go, having changed nothing). */
  private skipRest(why: string): void {
    for (const service of this.services)
      if (!FINAL_SERVICE_STATES.has(service.state)) this.settle(service, 'skipped', `not started: ${why}`);
  }

  private async startService(service: ServiceProgress): Promise<void> {
    const held = this.held.get(service.runbookId);
    if (held === undefined) {
      const handle = await this.startFailover(service);
      if (handle !== undefined) this.follow(service, handle);
      return;
    }
    this.held.delete(service.runbookId);
    service.startedAt = new Date().toISOString();
    // A failover whose hold ran out has already ended: following it reports how.
    await releaseHeld(
      held,
      service.runbookId,
      {
        operator: `evacuation ${workflowInfo().workflowId}`,
        reason: `wave ${service.wave} started ${service.runbookId}`,
        proceed: true,
      },
      this.recordsReleases,
    ).catch(() => undefined);
    this.follow(service, held);
  }

  /** Starts a service's failover under its runbook's lock (held for `holdMs` when given); undefined when refused. */
  private async startFailover(
    service: ServiceProgress,
    holdMs?: number,
  ): Promise<ChildWorkflowHandle<typeof failoverWorkflow> | undefined> {
    const runbook = this.start.runbooks[service.runbookId];
    const sha256 = this.start.cover.runbookHashes[service.runbookId];
    if (runbook === undefined || sha256 === undefined) {
      this.settle(service, 'failed', `runbook ${service.runbookId} is not in the reviewed evacuation`);
      return undefined;
    }
    const workflowId = runLockId(runbook.id);
    if (holdMs === undefined) service.startedAt = new Date().toISOString();
    const failover: FailoverRequest = {
      runbook: { id: runbook.id, sha256 },
      start: this.start.initiator.signed,
      evacuation: this.start.cover,
      // A worker still on code from before `heldByParent` holds on `holdUntilReleasedMs` (a rolling deploy):
      // both are sent, and a worker that knows `heldByParent` acts on it alone.
      ...(holdMs === undefined
        ? {}
        : this.recordsReleases
          ? {
              heldByParent: this.readsWhileHeld.has(runbook.id) ? { readsWhileHeld: true } : {},
              holdUntilReleasedMs: holdMs,
            }
          : { holdUntilReleasedMs: holdMs }),
    };
    try {
      return await startChild<typeof failoverWorkflow>('failoverWorkflow', {
        workflowId,
        args: [failover],
        // The evacuation closed or cancelled from Temporal's UI or CLI, its failovers go on: one cut between fence
        // and promote leaves no primary (drctl abort stops them, each at a safe point).
        parentClosePolicy: 'ABANDON',
        cancellationType: childCancellation(),
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: RUNBOOK_KEY, value: runbook.id },
          { key: KIND_KEY, value: 'failover' },
          { key: INITIATOR_KEY, value: this.initiator },
        ],
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        this.settle(
          service,
          'refused',
          `${this.fieldOf(service)}: ${runbook.id} is held by ${workflowId} (another run of it is open: drctl status ${workflowId}); it was not started twice`,
        );
        return undefined;
      }
      throw error;
    }
  }

  /** From its start (or release) on: the service's table row follows its failover, and settles with its result. */
  private follow(service: ServiceProgress, handle: ChildWorkflowHandle<typeof failoverWorkflow>): void {
    service.workflowId = handle.workflowId;
    service.runId = handle.firstExecutionRunId;
    this.changed = true;
    this.watching++;
    // A watch only feeds the table: one that fails (the evacuation cancelled, the worker built without a client)
    // must not fail the workflow task as an unhandled rejection.
    void this.watch(service)
      .catch(() => undefined)
      .finally(() => {
        this.watching--;
      });
    void handle.result().then(
      (result: FailoverResult) => this.finish(service, result.status, result),
      (error: unknown) => {
        // An aborted or failed failover carries its result (and its own status) as its failure's detail.
        const recorded = recordedResult(error);
        this.finish(service, recorded?.status ?? 'failed', recorded, error);
      },
    );
  }

  /** Follows a child's status and current step (for the table, and to know a paused service). */
  private async watch(service: ServiceProgress): Promise<void> {
    let known: RunSnapshot | undefined;
    while (!FINAL_SERVICE_STATES.has(service.state) && service.workflowId !== undefined) {
      const snapshot = await watchRun({
        workflowId: service.workflowId,
        ...(service.runId === undefined ? {} : { runId: service.runId }),
        ...(known ? { known } : {}),
      });
      known = snapshot;
      if (FINAL_SERVICE_STATES.has(service.state)) return;
      service.currentSteps = snapshot.currentSteps;
      service.stepsDone = snapshot.stepsDone;
      if (snapshot.status === 'paused') {
        service.state = 'paused';
        if (snapshot.detail !== undefined) service.detail = snapshot.detail;
      } else if (snapshot.status === 'running') {
        service.state = 'running';
        delete service.detail;
      }
      this.changed = true;
      if (snapshot.status !== 'running' && snapshot.status !== 'paused') return;
    }
  }

  private finish(
    service: ServiceProgress,
    status: string,
    result: FailoverResult | undefined,
    error?: unknown,
  ): void {
    const state = status === 'succeeded' ? 'succeeded' : status === 'aborted' ? 'aborted' : 'failed';
    // Credited to the abort only if the failover took this evacuation's abort (not an operator's own, nor a cancel).
    const nonce = this.abortUpdate?.signed.statement.nonce;
    if (
      state === 'aborted' &&
      nonce !== undefined &&
      result?.operatorActions.some(
        (action) => action.action === 'abort' && action.signed?.statement.nonce === nonce,
      )
    )
      this.stoppedByAbort = true;
    if (result) {
      service.stepsDone = result.timeline.filter((entry) => entry.status !== 'running').length;
      service.currentSteps = [];
    }
    const failedStep = result?.timeline.filter((entry) => entry.status === 'failed').at(-1);
    const detail =
      state === 'succeeded'
        ? undefined
        : failedStep
          ? `stopped at ${failedStep.stepId}: ${failedStep.error?.message ?? 'failed'}`
          : ((error as Error | undefined)?.message ?? status);
    this.settle(service, state, detail);
  }

  /** Forwards the operator's signed abort to every running child; each verifies it against this evacuation. */
  private async abortChildren(): Promise<void> {
    const update = this.abortUpdate;
    if (update === undefined) return;
    const live = this.services.filter(
      (service) =>
        (service.state === 'running' || service.state === 'paused') &&
        service.workflowId !== undefined &&
        !this.abortSent.has(service.workflowId),
    );
    for (const service of live) this.abortSent.add(service.workflowId as string);
    await Promise.all(
      live.map((service) =>
        abortRun({ workflowId: service.workflowId as string, runId: service.runId, update }).then(
          (answer) => this.recordForward(service, forwardAnswer(answer)),
          (error: unknown) =>
            this.recordForward(service, { outcome: 'not-sent', detail: innermostMessage(error) }),
        ),
      ),
    );
  }

  /** Keeps a failover's answer to the forwarded abort, or why none came: one that did not take it went on. */
  private recordForward(
    service: ServiceProgress,
    answer: Omit<AbortForward, 'runbookId' | 'workflowId'>,
  ): void {
    this.abortForwards.push({
      runbookId: service.runbookId,
      workflowId: service.workflowId as string,
      ...answer,
    });
  }

  private updateWaves(): void {
    this.waves.forEach((wave, index) => {
      if (index >= this.opened) return;
      const services = this.services.filter((service) => service.wave === wave.id);
      wave.state = services.every((service) => this.isSettled(service)) ? 'settled' : 'running';
    });
  }

  /** What a pass can change: the waves opened and each service's state. */
  private passState(): string {
    return `${this.opened}|${this.waves.map((wave) => wave.state).join(',')}|${this.services.map((service) => service.state).join(',')}`;
  }

  /** Nothing more happens to it without an operator or another service: final, paused or blocked. */
  private isSettled(service: ServiceProgress): boolean {
    return (
      FINAL_SERVICE_STATES.has(service.state) || service.state === 'paused' || service.state === 'blocked'
    );
  }

  private settle(service: ServiceProgress, state: ServiceProgress['state'], detail?: string): void {
    const held = this.held.get(service.runbookId);
    if (held !== undefined && FINAL_SERVICE_STATES.has(state)) {
      // Its failover was held for its wave and never released: let it go, having changed nothing. The
      // evacuation ends once it has closed, so its lock is free when the evacuation's end (a refusal) is seen.
      this.held.delete(service.runbookId);
      const dropped = releaseHeld(
        held,
        service.runbookId,
        {
          operator: `evacuation ${workflowInfo().workflowId}`,
          reason: `${service.runbookId} ${state}: ${detail ?? ''}`,
          proceed: false,
        },
        this.recordsReleases,
      ).catch(() => undefined);
      this.drops.push(
        this.recordsReleases
          ? dropped
              .then(() => held.result())
              .then(
                () => undefined,
                () => undefined,
              )
          : dropped,
      );
    }
    service.state = state;
    service.endedAt = new Date().toISOString();
    if (detail === undefined) delete service.detail;
    else service.detail = detail;
    this.changed = true;
  }

  private allFinal(): boolean {
    return this.services.every((service) => FINAL_SERVICE_STATES.has(service.state));
  }

  /** Where the evacuation names the service: `waves[1].runbooks[0]`. */
  private fieldOf(service: ServiceProgress): string {
    const w = this.evacuation.waves.findIndex((wave) => wave.id === service.wave);
    const s = this.evacuation.waves[w]?.runbooks.findIndex((entry) => entry.runbook === service.runbookId);
    return `waves[${w}].runbooks[${s ?? -1}]`;
  }

  private service(runbookId: string): ServiceProgress {
    return this.services.find((service) => service.runbookId === runbookId) as ServiceProgress;
  }

  private waveDefinition(id: string): EvacuationCover['evacuation']['waves'][number] {
    return this.evacuation.waves.find(
      (wave) => wave.id === id,
    ) as EvacuationCover['evacuation']['waves'][number];
  }
}

/** A failed failover carries its result as its failure's detail. */
function recordedResult(error: unknown): FailoverResult | undefined {
  if (!(error instanceof ChildWorkflowFailure) || !(error.cause instanceof ApplicationFailure))
    return undefined;
  const detail = error.cause.details?.[0] as FailoverResult | undefined;
  return detail?.timeline ? detail : undefined;
}
