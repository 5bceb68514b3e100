import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  defineQuery,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { INITIATOR_KEY, KIND_KEY, OUTCOME_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import {
  FINAL_SERVICE_STATES,
  type EvacuationActivities,
  type EvacuationInput,
  type EvacuationProgress,
  type EvacuationResult,
  type RunSnapshot,
  type ServiceProgress,
  type WaveProgress,
} from '../evacuations/evacuation-types';
import { provisionalRunLockId } from '../evacuations/run-lock';
import { leafStepsOf } from './leaf-steps';
import {
  abortUpdate,
  approveUpdate,
  type AbortRequest,
  type Approval,
  type OperatorAck,
} from './operator-decision';
import type { FailoverInput, FailoverResult, OperatorAction, RunStatus } from './run-types';

export const evacuationProgressQuery = defineQuery<EvacuationProgress>('evacuationProgress');

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
 * Evacuates a region: runs each runbook of an evacuation as a child failover, under its runbook's lock (one
 * workflow id per runbook), wave after wave. A wave opens once every service of the waves before it has
 * succeeded, failed, or paused for an operator; it waits for an approval first if it asks for one. Within a
 * wave at most `concurrency` services run at once, and a service starts only once those it depends on have
 * succeeded. A failed service pauses for an operator (its failover waits for retry|skip|abort) while the others
 * go on; with `onServiceFailure: stop` no new service starts after one fails. Succeeds when every service did;
 * otherwise fails (or ends aborted) with the same progress as the failure's detail.
 */
export async function evacuationWorkflow(input: EvacuationInput): Promise<EvacuationResult> {
  const run = new EvacuationRun(input);
  setHandler(evacuationProgressQuery, () => run.progress());
  setHandler(approveUpdate, (approval) => run.approve(approval), {
    validator: (approval) => run.validateApproval(approval),
  });
  setHandler(abortUpdate, (request) => run.abort(request), {
    validator: (request) => run.validateAbort(request),
  });
  const result = await run.execute();
  upsertSearchAttributes([{ key: OUTCOME_KEY, value: result.status }]);
  if (result.status !== 'succeeded') {
    const unsucceeded = result.services.filter((service) => service.state !== 'succeeded');
    throw ApplicationFailure.nonRetryable(
      `evacuation ${input.evacuation.id} ${result.status}: ${unsucceeded.map((s) => `${s.runbookId} ${s.state}`).join(', ')}`,
      result.status === 'aborted' ? 'EvacuationAborted' : 'EvacuationFailed',
      result,
    );
  }
  return result;
}

class EvacuationRun {
  private readonly services: ServiceProgress[];
  private readonly waves: WaveProgress[];
  private readonly operatorActions: OperatorAction[] = [];
  private opened = 0;
  private changed = false;
  private abortRequest: AbortRequest | undefined;
  private abortSent = new Set<string>();
  private status: RunStatus = 'running';
  private endedAt: string | undefined;

  constructor(private readonly input: EvacuationInput) {
    const { evacuation, runbooks } = input;
    this.waves = evacuation.waves.map((wave) => ({
      id: wave.id,
      ...(wave.title === undefined ? {} : { title: wave.title }),
      state: 'waiting',
      concurrency: wave.concurrency,
    }));
    this.services = evacuation.waves.flatMap((wave) =>
      wave.services.map((service) => ({
        runbookId: service.runbook,
        wave: wave.id,
        dependsOn: service.dependsOn,
        state: 'waiting' as const,
        currentSteps: [],
        stepsDone: 0,
        totalSteps: runbooks[service.runbook] ? leafStepsOf(runbooks[service.runbook]!).length : 0,
      })),
    );
    this.operatorActions.push({
      action: 'start',
      operator: input.options.initiator,
      reason: input.options.reason,
      at: workflowInfo().startTime.toISOString(),
    });
  }

  async execute(): Promise<EvacuationResult> {
    for (;;) {
      if (this.abortRequest) {
        await this.abortChildren(this.abortRequest);
        for (const service of this.services)
          if (service.state === 'waiting' || service.state === 'blocked')
            this.settle(
              service,
              'skipped',
              `not started: the evacuation was aborted by ${this.abortRequest.operator}`,
            );
      } else {
        this.openWaves();
        await Promise.all(this.eligible().map((service) => this.start(service)));
      }
      this.updateWaves();
      if (this.services.every((service) => FINAL_SERVICE_STATES.has(service.state))) break;
      await condition(() => this.changed);
      this.changed = false;
    }
    const succeeded = this.services.every((service) => service.state === 'succeeded');
    this.status = this.abortRequest ? 'aborted' : succeeded ? 'succeeded' : 'failed';
    this.endedAt = new Date().toISOString();
    return this.progress() as EvacuationResult;
  }

  progress(): EvacuationProgress {
    const gates = this.waves.filter((wave) => wave.state === 'awaiting-approval');
    const paused = this.services.some((service) => service.state === 'paused');
    return {
      workflowId: workflowInfo().workflowId,
      evacuationId: this.input.evacuation.id,
      title: this.input.evacuation.title,
      status: this.status === 'running' && (gates.length > 0 || paused) ? 'paused' : this.status,
      reason: this.input.options.reason,
      initiator: this.input.options.initiator,
      startedAt: workflowInfo().startTime.toISOString(),
      ...(this.endedAt === undefined ? {} : { endedAt: this.endedAt }),
      waves: this.waves,
      services: this.services,
      operatorActions: this.operatorActions,
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

  validateApproval(approval: Approval): void {
    if (!approval.reason.trim()) throw new Error('a reason is required: it is recorded for the audit trail');
    const waiting = this.waves.filter((wave) => wave.state === 'awaiting-approval');
    const wave =
      approval.stepId === undefined && waiting.length === 1
        ? waiting[0]
        : waiting.find((candidate) => candidate.id === approval.stepId);
    if (wave === undefined) {
      throw new Error(
        waiting.length === 0
          ? 'no wave of this evacuation is waiting for an approval'
          : `wave "${approval.stepId ?? '?'}" is not waiting for an approval; waiting: ${waiting.map((w) => w.id).join(', ')} (pass --step <wave>)`,
      );
    }
    if (
      this.waveDefinition(wave.id).approval?.twoPerson &&
      approval.operator === this.input.options.initiator
    ) {
      throw new Error(
        `two-person approval: ${approval.operator} started this evacuation and cannot approve wave "${wave.id}"; another operator must run drctl approve`,
      );
    }
  }

  approve(approval: Approval): OperatorAck {
    const waiting = this.waves.filter((wave) => wave.state === 'awaiting-approval');
    const wave = approval.stepId === undefined ? waiting[0] : waiting.find((w) => w.id === approval.stepId);
    if (wave) wave.approvedBy = approval.operator;
    this.record({
      action: 'approve',
      operator: approval.operator,
      reason: approval.reason,
      stepId: wave?.id,
    });
    this.changed = true;
    return { accepted: true, stepId: wave?.id, action: 'approve' };
  }

  validateAbort(request: AbortRequest): void {
    if (!request.reason.trim()) throw new Error('a reason is required: it is recorded for the audit trail');
    if (this.status !== 'running') throw new Error(`the evacuation has already ended (${this.status})`);
    if (this.abortRequest)
      throw new Error(`an abort is already under way (by ${this.abortRequest.operator})`);
  }

  abort(request: AbortRequest): OperatorAck {
    this.abortRequest = request;
    this.record({ action: 'abort', operator: request.operator, reason: request.reason });
    this.changed = true;
    return { accepted: true, action: request.rollback ? 'abort with rollback' : 'abort without rollback' };
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
      this.input.evacuation.onServiceFailure === 'stop' &&
      this.services.some((service) => ['failed', 'paused', 'refused', 'aborted'].includes(service.state));
    const openIds = new Set(this.waves.slice(0, this.opened).map((wave) => wave.id));
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
    if (stopping && this.services.every((s) => this.isSettled(s))) {
      for (const service of this.services)
        if (service.state === 'blocked' && service.detail?.startsWith('not started: a service failed'))
          this.settle(service, 'skipped', service.detail);
    }
    return starting;
  }

  private async start(service: ServiceProgress): Promise<void> {
    const runbook = this.input.runbooks[service.runbookId];
    if (runbook === undefined) {
      this.settle(service, 'failed', `runbook ${service.runbookId} was not passed to the evacuation`);
      return;
    }
    const workflowId = provisionalRunLockId(runbook.id);
    service.startedAt = new Date().toISOString();
    const failover: FailoverInput = {
      runbook,
      options: {
        reason: `evacuation ${this.input.evacuation.id} (${workflowInfo().workflowId}): ${this.input.options.reason}`,
        initiator: this.input.options.initiator,
      },
    };
    let handle;
    try {
      handle = await startChild('failoverWorkflow', {
        workflowId,
        args: [failover],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: RUNBOOK_KEY, value: runbook.id },
          { key: KIND_KEY, value: 'failover' },
          { key: INITIATOR_KEY, value: this.input.options.initiator },
        ],
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        this.settle(
          service,
          'refused',
          `another run of ${runbook.id} holds its lock (${workflowId} is running); it was not started twice`,
        );
        return;
      }
      throw error;
    }
    service.workflowId = handle.workflowId;
    this.changed = true;
    void this.watch(service);
    void handle.result().then(
      (result: FailoverResult) => this.finish(service, result.status, result),
      (error: unknown) => this.finish(service, 'failed', recordedResult(error), error),
    );
  }

  /** Follows a child's status and current step (for the table, and to know a paused service). */
  private async watch(service: ServiceProgress): Promise<void> {
    let known: RunSnapshot | undefined;
    while (!FINAL_SERVICE_STATES.has(service.state) && service.workflowId !== undefined) {
      const snapshot = await watchRun({ workflowId: service.workflowId, ...(known ? { known } : {}) });
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

  private async abortChildren(request: AbortRequest): Promise<void> {
    const live = this.services.filter(
      (service) =>
        (service.state === 'running' || service.state === 'paused') &&
        service.workflowId !== undefined &&
        !this.abortSent.has(service.workflowId),
    );
    for (const service of live) this.abortSent.add(service.workflowId as string);
    await Promise.all(
      live.map((service) =>
        abortRun({
          workflowId: service.workflowId as string,
          request: {
            operator: request.operator,
            reason: `evacuation ${this.input.evacuation.id} aborted: ${request.reason}`,
            rollback: request.rollback,
          },
        }).catch(() => undefined),
      ),
    );
  }

  private updateWaves(): void {
    this.waves.forEach((wave, index) => {
      if (index >= this.opened) return;
      const services = this.services.filter((service) => service.wave === wave.id);
      wave.state = services.every((service) => this.isSettled(service)) ? 'settled' : 'running';
    });
  }

  /** Nothing more happens to it without an operator or another service: final, paused or blocked. */
  private isSettled(service: ServiceProgress): boolean {
    return (
      FINAL_SERVICE_STATES.has(service.state) || service.state === 'paused' || service.state === 'blocked'
    );
  }

  private settle(service: ServiceProgress, state: ServiceProgress['state'], detail?: string): void {
    service.state = state;
    service.endedAt = new Date().toISOString();
    if (detail === undefined) delete service.detail;
    else service.detail = detail;
    this.changed = true;
  }

  private service(runbookId: string): ServiceProgress {
    return this.services.find((service) => service.runbookId === runbookId) as ServiceProgress;
  }

  private waveDefinition(id: string) {
    return this.input.evacuation.waves.find(
      (wave) => wave.id === id,
    ) as EvacuationInput['evacuation']['waves'][number];
  }

  private record(action: Omit<OperatorAction, 'at'>): void {
    this.operatorActions.push({ ...action, at: new Date().toISOString() });
  }
}

/** A failed failover carries its result as its failure's detail. */
function recordedResult(error: unknown): FailoverResult | undefined {
  if (!(error instanceof ChildWorkflowFailure) || !(error.cause instanceof ApplicationFailure))
    return undefined;
  const detail = error.cause.details?.[0] as FailoverResult | undefined;
  return detail?.timeline ? detail : undefined;
}
