import { createHash, randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  defaultFailureConverter,
  defaultPayloadConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { METADATA_ENCODING_KEY } from '@temporalio/common/lib/converter/types';
import { createStartUseActivities, MAX_EARLIER_RUNS_READ } from '../../activities/runs/start-use';
import { seal } from '../../security/codec/aes-gcm';
import { CodecError } from '../../security/codec/codec-error';
import {
  CIPHER,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_CIPHER,
  METADATA_DATA_KEY,
  METADATA_KEY_ID,
  OWN_KEY_RECHECK_MS,
} from '../../security/codec/encryption-codec';
import type { KeySource } from '../../security/codec/key-source';

/**
 * The worker's lookup of earlier runs' start nonces, over a fake Temporal whose visibility lists `runs` and whose
 * history answers each run's first event (or NOT_FOUND), decoded through codecs the test chooses.
 */
const WORKFLOW_ID = 'failover-ehr-db';
const ASKING = 'run-asking';

interface FakeRun {
  runId: string;
  input?: unknown;
  /** The run's input payloads as stored, instead of `input` converted. */
  payloads?: Payload[];
  gone?: boolean;
}

function fakeTemporal(runs: FakeRun[], codecs: PayloadCodec[]) {
  const reads: string[] = [];
  const temporal = {
    options: {
      namespace: 'default',
      loadedDataConverter: {
        payloadConverter: defaultPayloadConverter,
        failureConverter: defaultFailureConverter,
        payloadCodecs: codecs,
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
        const payloads = run.payloads ?? [defaultPayloadConverter.toPayload(run.input)];
        return {
          history: { events: [{ workflowExecutionStartedEventAttributes: { input: { payloads } } }] },
        };
      },
    },
  } as unknown as Client;
  return { temporal, reads };
}

/** A codec that fails each decode while `decodeFailure` returns an error, and counts the payloads it decodes. */
function breakableCodec(decodeFailure: () => Error | undefined = () => undefined) {
  const decoded: number[] = [];
  const codec: PayloadCodec = {
    encode: async (payloads) => payloads,
    decode: async (payloads) => {
      decoded.push(payloads.length);
      const failure = decodeFailure();
      if (failure) throw failure;
      return payloads;
    },
  };
  return { codec, decoded };
}

/** A nonce of the form a verified statement's has (hex digits), named by `label`. */
const nonce = (label: string) => createHash('sha256').update(label).digest('hex').slice(0, 32);
const startOn = (statementNonce: string) => ({ start: { statement: { nonce: statementNonce } } });

function lookUp(activities: ReturnType<typeof createStartUseActivities>, asked: string) {
  return activities.findEarlierStartUse({
    workflowId: WORKFLOW_ID,
    workflowType: 'failoverWorkflow',
    runId: ASKING,
    nonce: asked,
    signedAt: new Date().toISOString(),
  });
}

describe('GIVEN an earlier run whose start cannot be decoded for a moment (KMS throttled)', () => {
  test('WHEN a start is looked up THEN the lookup fails to be retried, and once the codec answers it finds the earlier use (before: taken as "no statement" and remembered, the replay passed)', async () => {
    let failing = true;
    const { codec } = breakableCodec(() =>
      failing ? Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }) : undefined,
    );
    const { temporal } = fakeTemporal([{ runId: 'run-1', input: startOn(nonce('1')) }], [codec]);
    const activities = createStartUseActivities({ temporal });

    await expect(lookUp(activities, nonce('1'))).rejects.toMatchObject({
      type: 'StartUnreadable',
      nonRetryable: false,
    });
    failing = false;
    await expect(lookUp(activities, nonce('1'))).resolves.toEqual({
      usedBy: expect.objectContaining({ runId: 'run-1' }),
    });
  });
});

test('GIVEN an earlier run whose ciphertext was altered WHEN two starts are looked up THEN it counts as no use and is read once', async () => {
  const { codec } = breakableCodec(
    () => new CodecError('PayloadTampered', 'fails its AES-GCM authentication'),
  );
  const { temporal, reads } = fakeTemporal([{ runId: 'run-forged' }], [codec]);
  const activities = createStartUseActivities({ temporal });
  await expect(lookUp(activities, nonce('1'))).resolves.toEqual({});
  await expect(lookUp(activities, nonce('2'))).resolves.toEqual({});
  expect(reads).toHaveLength(1);
});

test('GIVEN an earlier run listed but not found in history WHEN it appears later THEN its nonce is read then, not remembered as none', async () => {
  const runs: FakeRun[] = [{ runId: 'run-1', input: startOn(nonce('1')), gone: true }];
  const { temporal } = fakeTemporal(runs, []);
  const activities = createStartUseActivities({ temporal });
  await expect(lookUp(activities, nonce('1'))).resolves.toEqual({});
  runs[0] = { runId: 'run-1', input: startOn(nonce('1')) };
  await expect(lookUp(activities, nonce('1'))).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-1' }),
  });
});

test.each([
  ['a 100,000-character nonce', 'f'.repeat(100_000)],
  ['a nonce that is not hex digits', 'x'.repeat(32)],
  ['a nonce that is not a string', 12345],
])(
  'GIVEN an earlier run whose start carries %s WHEN starts are looked up THEN it is read once and remembered as no statement (no verified statement has one)',
  async (_what, claimed) => {
    const { temporal, reads } = fakeTemporal([{ runId: 'run-big', input: startOn(claimed as string) }], []);
    const activities = createStartUseActivities({ temporal });
    await expect(lookUp(activities, nonce('1'))).resolves.toEqual({});
    await expect(lookUp(activities, nonce('2'))).resolves.toEqual({});
    expect(reads).toEqual(['run-big']);
  },
);

test('GIVEN a start whose claimed nonce is not 32 to 128 hex digits WHEN it is looked up THEN the lookup refuses it for good, naming the field, and reads no run', async () => {
  const { temporal, reads } = fakeTemporal([{ runId: 'run-big', input: startOn('x'.repeat(200)) }], []);
  await expect(lookUp(createStartUseActivities({ temporal }), 'x'.repeat(200))).rejects.toMatchObject({
    message: expect.stringContaining('nonce must be 32 to 128 hex digits'),
    nonRetryable: true,
  });
  expect(reads).toEqual([]);
});

test(`GIVEN more than MAX_EARLIER_RUNS_READ (${MAX_EARLIER_RUNS_READ}) earlier runs under the id WHEN a start is looked up THEN it is refused for good, saying how to find them, and no run is read (before: every one was read, a history read and maybe a KMS Decrypt each, at every start)`, async () => {
  const piled = Array.from({ length: MAX_EARLIER_RUNS_READ + 1 }, (_, index) => ({
    runId: `run-${index}`,
    input: startOn(nonce(String(index))),
  }));
  const { temporal, reads } = fakeTemporal(piled, []);
  await expect(lookUp(createStartUseActivities({ temporal }), nonce('new'))).rejects.toMatchObject({
    message: expect.stringMatching(
      /more than 1000 runs match WorkflowId = 'failover-ehr-db' AND WorkflowType = 'failoverWorkflow' AND StartTime >= '\S+'.*temporal workflow list --query/,
    ),
    type: 'NotAuthorized',
    nonRetryable: true,
  });
  expect(reads).toEqual([]);
});

test(`GIVEN exactly MAX_EARLIER_RUNS_READ earlier runs WHEN a start is looked up THEN every one is read and a use among them is found`, async () => {
  const runs = Array.from({ length: MAX_EARLIER_RUNS_READ }, (_, index) => ({
    runId: `run-${index}`,
    input: startOn(nonce(String(index))),
  }));
  const { temporal, reads } = fakeTemporal(runs, []);
  await expect(lookUp(createStartUseActivities({ temporal }), nonce('new'))).resolves.toEqual({});
  expect(reads).toHaveLength(MAX_EARLIER_RUNS_READ);
  await expect(lookUp(createStartUseActivities({ temporal }), nonce('999'))).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-999' }),
  });
});

test('GIVEN an earlier run with a drctl start WHEN starts are looked up again THEN its history is read once', async () => {
  const { temporal, reads } = fakeTemporal([{ runId: 'run-1', input: startOn(nonce('1')) }], []);
  const activities = createStartUseActivities({ temporal });
  await expect(lookUp(activities, nonce('2'))).resolves.toEqual({});
  await expect(lookUp(activities, nonce('1'))).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-1' }),
  });
  expect(reads).toEqual(['run-1']);
});

test('GIVEN an earlier run whose input holds 10,000 payloads WHEN a start is looked up THEN only its first payload is decoded', async () => {
  const { codec, decoded } = breakableCodec();
  const payloads = Array.from({ length: 10_000 }, () => defaultPayloadConverter.toPayload({ junk: 'x' }));
  payloads[0] = defaultPayloadConverter.toPayload(startOn(nonce('1')));
  const { temporal } = fakeTemporal([{ runId: 'run-many', payloads }], [codec]);
  await expect(lookUp(createStartUseActivities({ temporal }), nonce('1'))).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-many' }),
  });
  expect(decoded).toEqual([1]);
});

/**
 * drctl's codec over a fake KMS whose current key is OWN_KEY: it makes data keys under it and unwraps what it
 * wrapped (the wrapped form is the plaintext itself here), refusing Decrypt with `unwrapFailure` when set. Every
 * Decrypt asked is counted.
 */
const OWN_KEY = 'kms:arn:aws:kms:us-east-1:111122223333:key/0b6f0000-0000-4000-8000-000000000001';
function kmsCodec(unwrapFailure: () => Error | undefined = () => undefined) {
  const unwrapsAsked: string[] = [];
  const source: KeySource = {
    kind: 'kms',
    newDataKey: async () => {
      const plaintext = randomBytes(32);
      return { keyId: OWN_KEY, plaintext, wrapped: Buffer.from(plaintext) };
    },
    unwrap: async (keyId, wrapped) => {
      unwrapsAsked.push(keyId);
      const failure = unwrapFailure();
      if (failure) throw failure;
      return Buffer.from(wrapped);
    },
  };
  return { codec: new EncryptionCodec({ encryptWith: source }), unwrapsAsked };
}

/** A payload as drctl's codec lays it out, sealing `inner` (normally a payload message) under `dataKey`. */
function sealedPayload(keyId: string, dataKey: Buffer, inner: Buffer): Payload {
  const aad = Buffer.concat([Buffer.from(`drctl-payload:v1\u0000${keyId}\u0000`), dataKey]);
  return {
    metadata: {
      [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
      [METADATA_CIPHER]: Buffer.from(CIPHER),
      [METADATA_KEY_ID]: Buffer.from(keyId),
      [METADATA_DATA_KEY]: dataKey,
    },
    data: seal(dataKey, inner, aad),
  };
}

test.each([
  ['a region that does not exist', 'kms:arn:aws:kms:xx-nowhere-9:111122223333:key/0b6f0000-0000-4000-8000-000000000001'],
  ['another account', 'kms:arn:aws:kms:us-east-1:999988887777:key/0b6f0000-0000-4000-8000-000000000001'],
  ['a keeper drctl has not', 'vault:transit/keys/drctl'],
])(
  "GIVEN an earlier run whose payload names a key of %s WHEN two starts are looked up THEN it counts as no use and KMS is never asked to unwrap (before: the lookup failed to be retried, for as long as the run stayed listed); the run is read again each time, its key may be drctl's later",
  async (_where, foreignKey) => {
    const { codec, unwrapsAsked } = kmsCodec(() =>
      Object.assign(new Error('1 validation error detected'), { name: 'ValidationException' }),
    );
    const forged = sealedPayload(foreignKey, randomBytes(32), Buffer.from('anything'));
    const { temporal, reads } = fakeTemporal([{ runId: 'run-forged', payloads: [forged] }], [codec]);
    const activities = createStartUseActivities({ temporal });
    await expect(lookUp(activities, nonce('1'))).resolves.toEqual({});
    await expect(lookUp(activities, nonce('2'))).resolves.toEqual({});
    expect(unwrapsAsked).toEqual([]);
    expect(reads).toEqual(['run-forged', 'run-forged']);
  },
);

/** A KMS whose alias points at `target.keyId`; it unwraps whatever it wrapped (the wrapped key is the key here). */
function movableKms(target: { keyId: string }): KeySource {
  return {
    kind: 'kms',
    newDataKey: async () => {
      const plaintext = randomBytes(32);
      return { keyId: target.keyId, plaintext, wrapped: Buffer.from(plaintext) };
    },
    unwrap: async (_keyId, wrapped) => Buffer.from(wrapped),
  };
}

const OLD_KEY = 'kms:arn:aws:kms:us-east-1:111122223333:key/11110000-0000-4000-8000-000000000002';
const NEW_KEY = 'kms:arn:aws:kms:us-east-1:111122223333:key/22220000-0000-4000-8000-000000000003';

/**
 * A worker's codec on OLD_KEY (`beforeTheMove` acts on it then), then the alias moved and a CLI's honest start
 * written under NEW_KEY.
 */
async function aliasMovedAfterTheWorkerStarted(
  now: () => number,
  beforeTheMove: (worker: EncryptionCodec) => Promise<unknown> = async () => undefined,
) {
  const alias = { keyId: OLD_KEY };
  const worker = new EncryptionCodec({ encryptWith: movableKms(alias), now });
  await worker.encode([defaultPayloadConverter.toPayload('a payload before the move')]);
  await beforeTheMove(worker);
  alias.keyId = NEW_KEY;
  const cli = new EncryptionCodec({ encryptWith: movableKms(alias) });
  const [honest] = await cli.encode([defaultPayloadConverter.toPayload(startOn(nonce('honest')))]);
  const { temporal } = fakeTemporal([{ runId: 'run-honest', payloads: [honest!] }], [worker]);
  return { worker, activities: createStartUseActivities({ temporal }) };
}

test('GIVEN an honest start a CLI wrote under the key the alias moved to WHEN a worker whose data key predates the move looks up a replay of it THEN the replay is found at once (before: counted as no use until the worker replaced its data key, up to 5 minutes)', async () => {
  const { activities } = await aliasMovedAfterTheWorkerStarted(() => 1_000_000);
  await expect(lookUp(activities, nonce('honest'))).resolves.toMatchObject({
    usedBy: { runId: 'run-honest' },
  });
});

test('GIVEN a start under a key the worker did not know when it looked WHEN the key becomes its own (the next recheck) THEN the replay is found (before: the first "no use" was remembered for good)', async () => {
  let now = 1_000_000;
  // The worker looked at an unknown key a moment before the move: it does not ask again until the recheck.
  const { activities } = await aliasMovedAfterTheWorkerStarted(
    () => now,
    (worker) => worker.isOwnKey('kms:arn:aws:kms:us-east-1:999988887777:key/5e000000-0000-4000-8000-000000000004'),
  );
  now += 1_000;
  await expect(lookUp(activities, nonce('honest'))).resolves.toEqual({});
  now += OWN_KEY_RECHECK_MS;
  await expect(lookUp(activities, nonce('honest'))).resolves.toMatchObject({
    usedBy: { runId: 'run-honest' },
  });
});

test('GIVEN an earlier run under a key the codec does not know WHEN it is looked up twice within OWN_KEY_RECHECK_MS THEN the codec asks its keeper for the current key once, not per lookup', async () => {
  let made = 0;
  const source: KeySource = {
    kind: 'kms',
    newDataKey: async () => {
      made += 1;
      const plaintext = randomBytes(32);
      return { keyId: OWN_KEY, plaintext, wrapped: Buffer.from(plaintext) };
    },
    unwrap: async () => {
      throw new Error("not asked: the key is not drctl's");
    },
  };
  let now = 5_000_000;
  const codec = new EncryptionCodec({ encryptWith: source, now: () => now });
  const stranger = sealedPayload(
    'kms:arn:aws:kms:us-east-1:999988887777:key/5e000000-0000-4000-8000-000000000005',
    randomBytes(32),
    Buffer.from('x'),
  );
  const { temporal } = fakeTemporal([{ runId: 'run-stranger', payloads: [stranger] }], [codec]);
  const activities = createStartUseActivities({ temporal });
  await lookUp(activities, nonce('1'));
  await lookUp(activities, nonce('2'));
  expect(made).toBe(1);
  now += OWN_KEY_RECHECK_MS;
  await lookUp(activities, nonce('3'));
  expect(made).toBe(2);
});

test("GIVEN an earlier drctl start under drctl's own KMS key WHEN Decrypt is refused (key disabled, access denied) THEN the lookup fails to be retried, naming the key (before: counted as no use, a replayed statement passed)", async () => {
  const writer = kmsCodec().codec;
  const [start] = await writer.encode([defaultPayloadConverter.toPayload(startOn(nonce('1')))]);
  let refusing = true;
  const { codec } = kmsCodec(() =>
    refusing
      ? new CodecError('KeyUnavailable', `cannot unwrap under ${OWN_KEY}: DisabledException`)
      : undefined,
  );
  const { temporal } = fakeTemporal([{ runId: 'run-1', payloads: [start!] }], [codec]);
  const activities = createStartUseActivities({ temporal });

  await expect(lookUp(activities, nonce('1'))).rejects.toMatchObject({
    type: 'StartUnreadable',
    nonRetryable: false,
    message: expect.stringContaining('DisabledException'),
  });
  refusing = false;
  await expect(lookUp(activities, nonce('1'))).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: 'run-1' }),
  });
});

test("GIVEN an earlier run under drctl's own key whose ciphertext opens to junk, not a payload message WHEN two starts are looked up THEN it counts as no use, read once (before: a RangeError failed the lookup to be retried)", async () => {
  const { codec } = kmsCodec();
  const junk = sealedPayload(OWN_KEY, randomBytes(32), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  const { temporal, reads } = fakeTemporal([{ runId: 'run-junk', payloads: [junk] }], [codec]);
  const activities = createStartUseActivities({ temporal });
  await expect(lookUp(activities, nonce('1'))).resolves.toEqual({});
  await expect(lookUp(activities, nonce('2'))).resolves.toEqual({});
  expect(reads).toEqual(['run-junk']);
});
