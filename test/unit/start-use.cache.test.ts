import type { Client } from '@temporalio/client';
import {
  defaultFailureConverter,
  defaultPayloadConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { createStartUseActivities } from '../../activities/runs/start-use';
import { CodecError } from '../../security/codec/codec-error';

/**
 * The worker's memory of earlier runs' start nonces, over a fake Temporal whose visibility lists `runs` and whose
 * history answers each run's first event (or NOT_FOUND), decoded through a codec the test breaks at will.
 */
const WORKFLOW_ID = 'failover-ehr-db';
const ASKING = 'run-asking';

interface FakeRun {
  runId: string;
  input?: unknown;
  gone?: boolean;
}

function fakeTemporal(runs: FakeRun[], decodeFailure: () => Error | undefined) {
  const reads: string[] = [];
  const codec: PayloadCodec = {
    encode: async (payloads) => payloads,
    decode: async (payloads) => {
      const failure = decodeFailure();
      if (failure) throw failure;
      return payloads;
    },
  };
  const temporal = {
    options: {
      namespace: 'default',
      loadedDataConverter: {
        payloadConverter: defaultPayloadConverter,
        failureConverter: defaultFailureConverter,
        payloadCodecs: [codec],
      },
    },
    workflow: {
      list: () =>
        (async function* () {
          for (const { runId } of [...runs, { runId: ASKING }]) yield { runId, startTime: new Date() };
        })(),
    },
    workflowService: {
      getWorkflowExecutionHistory: async (request: { execution: { runId: string } }) => {
        const runId = request.execution.runId;
        reads.push(runId);
        const run = runs.find((candidate) => candidate.runId === runId);
        if (run === undefined || run.gone) throw Object.assign(new Error('workflow not found'), { code: 5 });
        const payload: Payload = defaultPayloadConverter.toPayload(run.input);
        return {
          history: {
            events: [{ workflowExecutionStartedEventAttributes: { input: { payloads: [payload] } } }],
          },
        };
      },
    },
  } as unknown as Client;
  return { temporal, reads };
}

const startOn = (nonce: string) => ({ start: { statement: { nonce } } });

function lookUp(activities: ReturnType<typeof createStartUseActivities>, nonce: string) {
  return activities.findEarlierStartUse({
    workflowId: WORKFLOW_ID,
    workflowType: 'failoverWorkflow',
    runId: ASKING,
    nonce,
    signedAt: new Date().toISOString(),
  });
}

describe('GIVEN an earlier run whose start cannot be decoded for a moment (KMS throttled)', () => {
  test('WHEN a start is looked up THEN the lookup fails to be retried, and once the codec answers it finds the earlier use (before: taken as "no statement" and remembered, the replay passed)', async () => {
    let failing = true;
    const { temporal } = fakeTemporal([{ runId: 'run-1', input: startOn('n-1') }], () =>
      failing ? Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }) : undefined,
    );
    const activities = createStartUseActivities({ temporal });

    await expect(lookUp(activities, 'n-1')).rejects.toMatchObject({
      type: 'StartUnreadable',
      nonRetryable: false,
    });
    failing = false;
    await expect(lookUp(activities, 'n-1')).resolves.toEqual({
      usedBy: expect.objectContaining({ runId: 'run-1' }),
    });
  });
});

test.each([
  [
    'its ciphertext was altered',
    1,
    () => new CodecError('PayloadTampered', 'fails its AES-GCM authentication'),
  ],
  [
    'its data key is not one this worker can unwrap',
    2,
    () => new CodecError('KeyUnavailable', 'no data key'),
  ],
])(
  'GIVEN an earlier run whose input is no drctl start (%s) WHEN two starts are looked up THEN it counts as no use and is read %d time(s)',
  async (_why, expectedReads, failure) => {
    const { temporal, reads } = fakeTemporal([{ runId: 'run-forged' }], failure);
    const activities = createStartUseActivities({ temporal });
    await expect(lookUp(activities, 'n-1')).resolves.toEqual({});
    await expect(lookUp(activities, 'n-2')).resolves.toEqual({});
    expect(reads).toHaveLength(expectedReads);
  },
);

test('GIVEN an earlier run listed but not found in history WHEN it appears later THEN its nonce is read then, not remembered as none', async () => {
  const runs: FakeRun[] = [{ runId: 'run-1', input: startOn('n-1'), gone: true }];
  const { temporal } = fakeTemporal(runs, () => undefined);
  const activities = createStartUseActivities({ temporal });
  await expect(lookUp(activities, 'n-1')).resolves.toEqual({});
  runs[0] = { runId: 'run-1', input: startOn('n-1') };
  await expect(lookUp(activities, 'n-1')).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-1' }),
  });
});

test('GIVEN an earlier run whose input carries a huge nonce WHEN starts are looked up THEN it is compared each time, not held in memory', async () => {
  const huge = 'x'.repeat(100_000);
  const { temporal, reads } = fakeTemporal([{ runId: 'run-big', input: startOn(huge) }], () => undefined);
  const activities = createStartUseActivities({ temporal });
  await expect(lookUp(activities, 'n-1')).resolves.toEqual({});
  await expect(lookUp(activities, huge)).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-big' }),
  });
  expect(reads).toEqual(['run-big', 'run-big']);
});

test('GIVEN an earlier run with a drctl start WHEN starts are looked up again THEN its history is read once', async () => {
  const { temporal, reads } = fakeTemporal([{ runId: 'run-1', input: startOn('n-1') }], () => undefined);
  const activities = createStartUseActivities({ temporal });
  await expect(lookUp(activities, 'n-2')).resolves.toEqual({});
  await expect(lookUp(activities, 'n-1')).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-1' }),
  });
  expect(reads).toEqual(['run-1']);
});
