import { generateKeyPairSync } from 'node:crypto';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import {
  ApplicationFailure,
  RetryState,
  TerminatedFailure,
  defaultPayloadConverter,
} from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { createEvidenceActivities } from '../../activities/evidence/evidence-activities';
import { PermanentFailure } from '../../activities/failures';
import type { EvidenceRequest } from '../../evidence/ledger-protocol';
import { findRunbook } from '../../runbooks/catalog';
import { FakeEvidenceStore } from '../fakes/fake-evidence-store';

/**
 * Only a run's own end goes into its bundle. An error in reading the run (Temporal unreachable, the payload codec
 * or its KMS key failing) must not: the bundle is signed and locked for years, and a written request is never
 * collected again.
 */

const T0 = new Date('2026-11-27T09:00:00.000Z');
const REQUEST: EvidenceRequest = {
  workflowId: 'failover-ehr-db-1',
  runId: 'run-1',
  workflowType: 'failoverWorkflow',
  requestedAt: T0.toISOString(),
};
const { runbook } = findRunbook('ehr-db');

/** A closed failover as Temporal's client gives it: its description, its history, and `result()` as scripted. */
function fakeTemporal(options: {
  status?: string;
  result?: () => Promise<unknown>;
  describe?: () => Promise<unknown>;
}): Client {
  const status = options.status ?? 'COMPLETED';
  const history = temporal.api.history.v1.History.fromObject({
    events: [
      {
        eventId: 1,
        eventType: temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: REQUEST.workflowType },
          input: { payloads: [defaultPayloadConverter.toPayload({ runbook })] },
        },
      },
    ],
  });
  const description = {
    type: REQUEST.workflowType,
    status: { name: status },
    startTime: T0,
    closeTime: new Date(T0.getTime() + 60_000),
  } as unknown as WorkflowExecutionDescription;
  const handle = {
    describe: options.describe ?? (async () => description),
    fetchHistory: async () => history,
    result: options.result ?? (async () => ({})),
  };
  return {
    options: { loadedDataConverter: loadDataConverter() },
    workflow: { getHandle: () => handle },
  } as unknown as Client;
}

function activitiesWith(temporalClient: Client) {
  const store = new FakeEvidenceStore(() => T0);
  const activities = createEvidenceActivities({
    temporal: temporalClient,
    namespace: 'default',
    ledgerTaskQueue: 'drctl',
    store,
    signingKey: generateKeyPairSync('ed25519').privateKey,
    prefix: 'evidence/',
    retentionYears: 7,
    now: () => T0,
  });
  return { store, activities };
}

function resultJson(store: FakeEvidenceStore): unknown {
  const key = store.allKeys().find((stored) => stored.endsWith('/result.json'));
  if (key === undefined) throw new Error(`no result.json among ${store.allKeys().join(', ')}`);
  return JSON.parse(store.bytes(key).toString('utf8'));
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error('expected an ApplicationFailure, but it resolved');
  if (!(outcome.error instanceof ApplicationFailure))
    throw new Error(`expected an ApplicationFailure, got ${String(outcome.error)}`);
  return outcome.error;
}

describe('collecting a closed run whose result cannot be read', () => {
  it.each([
    ['Temporal unreachable', new Error('14 UNAVAILABLE: connection reset')],
    ['the payload codec failing', new Error('KMS Decrypt failed: ThrottlingException')],
  ])(
    'GIVEN a COMPLETED run and %s WHEN its bundle is written THEN it fails retryably and nothing is stored',
    async (_why, error) => {
      const { store, activities } = activitiesWith(fakeTemporal({ result: () => Promise.reject(error) }));

      const failure = await failureOf(activities.writeEvidenceBundle(REQUEST));

      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toContain(error.message);
      expect(failure.message).toContain('retries the collection');
      expect(store.allKeys()).toEqual([]);
    },
  );
});

describe('collecting a run that ended on its own', () => {
  it('GIVEN a terminated run WHEN its bundle is written THEN its result records how it ended', async () => {
    const terminated = new WorkflowFailedError(
      'stuck, terminated by on-call',
      new TerminatedFailure('stuck, terminated by on-call'),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    const { store, activities } = activitiesWith(
      fakeTemporal({ status: 'TERMINATED', result: () => Promise.reject(terminated) }),
    );

    await activities.writeEvidenceBundle(REQUEST);

    expect(resultJson(store)).toEqual({ closeStatus: 'TERMINATED', error: 'stuck, terminated by on-call' });
  });

  it('GIVEN a refused run WHEN its bundle is written THEN its result records the refusal', async () => {
    const refused = new WorkflowFailedError(
      'Workflow execution failed',
      ApplicationFailure.nonRetryable('not allowed', PermanentFailure.NotAuthorized),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    const { store, activities } = activitiesWith(
      fakeTemporal({ status: 'FAILED', result: () => Promise.reject(refused) }),
    );

    await activities.writeEvidenceBundle(REQUEST);

    expect(resultJson(store)).toEqual({
      closeStatus: 'FAILED',
      error: 'not allowed',
      failureType: PermanentFailure.NotAuthorized,
    });
  });
});

describe('waiting for a run that is not in Temporal', () => {
  it('GIVEN no such run WHEN the ledger waits for it to close THEN the wait fails as NotFound, not retried', async () => {
    const { activities } = activitiesWith(
      fakeTemporal({
        describe: () =>
          Promise.reject(new WorkflowNotFoundError('workflow not found', REQUEST.workflowId, REQUEST.runId)),
      }),
    );

    const failure = await failureOf(activities.waitForRunClosed(REQUEST));

    expect(failure.type).toBe(PermanentFailure.NotFound);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${REQUEST.workflowId}/${REQUEST.runId}`);
  });
});
