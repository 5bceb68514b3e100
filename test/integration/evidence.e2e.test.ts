import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { DsseEnvelope } from '../../evidence/envelope';
import { ChainLayout } from '../../evidence/layout';
import { manifestPayload, sha256Hex, type EvidenceManifest } from '../../evidence/manifest';
import { addYears } from '../../evidence/retention';
import type { RunCoverage } from '../../evidence/run-coverage';
import type { VerifyReport } from '../../evidence/verify-chain';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import { createEvidenceBucket, EVIDENCE_BUCKET } from '../../sandbox/evidence-seed';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { DrillResult } from '../../workflows/drill-types';
import type { FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { pointRecordAt } from './estate-writers';
import { configuredSecretValues } from './configured-secrets';
import { withSandboxClient } from './sandbox-data-converter';

/**
 * Evidence on the real stack: runs end, the ledger writes their bundles to the sandbox's Object Lock bucket in
 * moto, `drctl evidence verify` passes, and each kind of tampering (done straight to moto, behind drctl's back,
 * on a faithful copy of the chain) makes it fail with the precise message.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let s3: S3Client;
const layout = new ChainLayout('drctl-evidence/', 'default');
// A real drill or failover plus the wait for its bundle; on a busy 2-core machine that can pass 3 minutes.
jest.setTimeout(420_000);
const BUNDLE_TIMEOUT_MS = 120_000;

interface Shown {
  sequence: number;
  sha256: string;
  signature: string;
  manifest: EvidenceManifest;
}

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `e2e-evidence-${randomUUID()}`);
  worker = await startWorkerProcess(env);
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: stack.moto.endpoint,
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
  });
});

afterAll(async () => {
  await stopProcess(worker);
  s3?.destroy();
  await resetStack();
});

/**
 * The run's bundle once the ledger has written it (moments after the run closed). Runs of one runbook share the
 * lock's workflow id, so a `runId` picks the one execution among them.
 */
async function bundleOf(run: string, environment = env, runId?: string): Promise<Shown> {
  const deadline = Date.now() + BUNDLE_TIMEOUT_MS;
  for (;;) {
    const shown = await drctl(['evidence', 'show', run, '--output', 'json'], environment);
    const bundle =
      shown.code === 0
        ? (JSON.parse(shown.stdout) as Shown[]).find(
            (candidate) => runId === undefined || candidate.manifest.run.runId === runId,
          )
        : undefined;
    if (bundle) return bundle;
    if (Date.now() > deadline)
      throw new Error(`no evidence bundle of ${run} after ${BUNDLE_TIMEOUT_MS} ms: ${shown.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function objectBytes(key: string, bucket = EVIDENCE_BUCKET): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function putVersion(
  bucket: string,
  key: string,
  body: Buffer | string,
  retainUntil: Date,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: Buffer.from(body),
      ChecksumAlgorithm: 'SHA256',
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: retainUntil,
    }),
  );
}

/** A faithful copy of the chain in a new Object Lock bucket: same bytes, same lock. */
async function cloneChain(name: string): Promise<string> {
  const bucket = `drctl-evidence-${name}-${randomUUID().slice(0, 8)}`;
  await createEvidenceBucket(s3, bucket);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: layout.root }));
  for (const object of listed.Contents ?? []) {
    const source = await s3.send(new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: object.Key! }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: object.Key!,
        Body: Buffer.from(await source.Body!.transformToByteArray()),
        ChecksumAlgorithm: 'SHA256',
        ObjectLockMode: source.ObjectLockMode,
        ObjectLockRetainUntilDate: source.ObjectLockRetainUntilDate,
      }),
    );
  }
  expect(listed.IsTruncated).toBeFalsy();
  return bucket;
}

async function verifyJson(bucket: string): Promise<{ code: number; report: VerifyReport }> {
  const run = await drctl(['evidence', 'verify', '--output', 'json'], {
    ...env,
    DRCTL_EVIDENCE_BUCKET: bucket,
  });
  return { code: run.code, report: JSON.parse(run.stdout) as VerifyReport };
}

async function chainEntries(): Promise<Array<{ sequence: number; workflowId: string; state: string }>> {
  return JSON.parse((await drctl(['evidence', 'list', '--output', 'json'], env)).stdout) as Array<{
    sequence: number;
    workflowId: string;
    state: string;
  }>;
}

let drillId: string;
let failoverId: string;
let failoverRunId: string;

test('a drill ends: its bundle (history, result, reports with the audit section, runbook, operator actions, its failover) is locked for 6 years', async () => {
  const run = await drctl(
    ['drill', 'run', 'ehr-db', '--reason', 'evidence e2e drill', '--follow', '--output', 'json'],
    env,
  );
  // Evidence is kept whatever the verdict: a failed drill (a slow machine can miss an objective) gets its bundle too.
  const result = JSON.parse(run.stdout) as DrillResult;
  expect(run.code).toBe(result.passed ? 0 : 1);
  const verdict = result.passed ? 'passed' : 'failed';
  drillId = result.drillId;

  const { manifest, signature } = await bundleOf(drillId);
  expect(signature).toMatch(/^verified/);
  expect(manifest.run).toMatchObject({
    kind: 'drill',
    workflowId: drillId,
    outcome: verdict,
    closeStatus: 'COMPLETED',
  });
  // The drill's failover runs under the runbook's lock id, as its child.
  const failoverId = result.failover.workflowId;
  expect(failoverId).toBe('failover-ehr-db');
  expect(manifest.run.children).toEqual([
    expect.objectContaining({
      workflowId: failoverId,
      runId: result.failover.runId,
      workflowType: 'failoverWorkflow',
      closeStatus: 'COMPLETED',
    }),
  ]);
  // The runbook file is exactly what the drill hashed when it started.
  expect(manifest.run.runbookSha256).toBe(result.runbookHash);
  const child = `children/${encodeURIComponent(failoverId)}`;
  expect(manifest.files.map((file) => file.path)).toEqual([
    'history.json',
    'result.json',
    'runbook.json',
    'operator-actions.json',
    'reports/report.md',
    'reports/report.html',
    'reports/report.json',
    'reports/report.junit.xml',
    `${child}/history.json`,
    `${child}/result.json`,
  ]);

  const createdAt = new Date(manifest.createdAt);
  for (const file of manifest.files) {
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: file.key, ChecksumMode: 'ENABLED' }),
    );
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThanOrEqual(
      addYears(createdAt, 6).getTime(),
    );
    expect(head.ChecksumSHA256).toBe(Buffer.from(file.sha256, 'hex').toString('base64'));
    // Encrypted under the configured KMS key, named by its alias (before: the bucket's default encryption only).
    // S3 answers with the key's ARN; moto echoes the id as it was given.
    expect({ sse: head.ServerSideEncryption, key: head.SSEKMSKeyId }).toEqual({
      sse: 'aws:kms',
      key: stack.security.kms.alias,
    });
    expect(sha256Hex(await objectBytes(file.key))).toBe(file.sha256);
  }
  const report = (
    await objectBytes(manifest.files.find((file) => file.path === 'reports/report.md')!.key)
  ).toString();
  expect(report).toContain('## Contingency plan test (HIPAA 45 CFR 164.308(a)(7)(ii)(D))');
  // The evidence worker reads the access policy: the participant's signature is verified in the bundle's report.
  expect(report).toContain(
    '| alice | start | **verified** | verified: 1 of 1 action(s) signed, signature verified |',
  );
  const history = JSON.parse((await objectBytes(manifest.files[0]!.key)).toString()) as {
    events: Array<{ eventType: string }>;
  };
  expect(history.events[0]!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  expect(history.events.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');

  // The drill's failover is in the drill's bundle, not a bundle of its own.
  expect((await chainEntries()).filter((entry) => entry.workflowId === failoverId)).toEqual([]);
});

test('a failover ends: its bundle follows in the chain, with the timeline reports and the operator actions as recorded', async () => {
  // Back to the seeded topology without touching moto (a moto reset would wipe the evidence bucket too).
  await resetStack({ only: ['postgres', 'unleash'] });
  await pointRecordAt(stack, 'ehr-db.sandbox.drctl.internal.', '127.0.0.2', 5);

  const run = await drctl(
    ['failover', 'ehr-db', '--reason', 'evidence e2e failover', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as FailoverResult;
  failoverId = result.workflowId;
  failoverRunId = result.runId;

  const drill = await bundleOf(drillId);
  const { manifest } = await bundleOf(failoverId, env, failoverRunId);
  expect(manifest.sequence).toBeGreaterThan(drill.sequence);
  expect(manifest.run).toMatchObject({ kind: 'failover', outcome: 'succeeded', runbookId: 'ehr-db' });
  expect(manifest.files.map((file) => file.path)).toEqual([
    'history.json',
    'result.json',
    'runbook.json',
    'operator-actions.json',
    'reports/timeline.md',
    'reports/timeline.json',
  ]);
  const actions = JSON.parse((await objectBytes(manifest.files[3]!.key)).toString()) as unknown;
  expect(actions).toEqual(result.operatorActions);
  // `show` found it through the run index (it starts at or before the drill's bundle): an empty object per id,
  // locked as long as the manifest.
  const from = await s3.send(
    new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: layout.indexFromPrefix }),
  );
  expect(from.Contents?.map((object) => layout.sequenceUnder(layout.indexFromPrefix, object.Key!))).toEqual([
    expect.any(Number),
  ]);
  expect(layout.sequenceUnder(layout.indexFromPrefix, from.Contents![0]!.Key!)).toBeLessThanOrEqual(
    drill.sequence,
  );
  for (const id of [failoverId, failoverRunId]) {
    const entry = layout.sequenceKey(layout.indexPrefix(id), manifest.sequence);
    const head = await s3.send(new HeadObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: entry }));
    expect(head).toMatchObject({ ContentLength: 0, ObjectLockMode: 'COMPLIANCE' });
    expect(head.ObjectLockRetainUntilDate?.toISOString()).toBe(manifest.retention.retainUntil);
  }
});

test('a start the access policy refuses leaves a bundle too: an unauthorized attempt is auditable after Temporal forgets it', async () => {
  const refused = await drctl(
    ['failover', 'ehr-db', '--reason', 'evidence e2e: not mine to start', '--yes', '--output', 'json'],
    asOperator(env, 'dave'),
  );
  expect(refused.code).toBe(4);
  const runs = JSON.parse((await drctl(['runs', '--limit', '5', '--output', 'json'], env)).stdout) as Array<{
    runId: string;
    outcome: string;
    initiator: string;
  }>;
  const run = runs.find((candidate) => candidate.outcome === 'refused' && candidate.initiator === 'dave');
  expect(run).toBeDefined();
  // Before: a refused run asked for no bundle; only Temporal's history, for the namespace's retention, had it.
  const { manifest } = await bundleOf('failover-ehr-db', env, run!.runId);
  expect(manifest.run).toMatchObject({ kind: 'failover', outcome: 'refused', closeStatus: 'FAILED' });
  const result = JSON.parse(
    (await objectBytes(manifest.files.find((file) => file.path === 'result.json')!.key)).toString(),
  ) as { error: string; failureType: string };
  expect(result).toMatchObject({ failureType: 'NotAuthorized' });
  expect(result.error).toContain('not permitted: dave may not failover runbook ehr-db');

  // drctl's own ledger, which evidence verify's hints point to (before: "a workflow that drctl did not start", exit 2).
  const ledger = await drctl(['status', 'drctl-evidence-ledger'], env);
  expect(ledger.code).toBe(0);
  expect(ledger.stdout).toMatch(
    /^drctl-evidence-ledger \(the evidence ledger, which writes every run's bundle\): RUNNING\n {2}bundles written by this ledger: \d+; the last, #\d+, of failover-ehr-db\n {2}queue: /,
  );
});

test('runs ending at once are appended one after the other: one chain, no fork', async () => {
  // Runbooks run only from the worker's reviewed catalog: these three join this test's folder of it.
  const ids = ['evidence-a', 'evidence-b', 'evidence-c'];
  const files = ids.map((id) => join(catalogDir(env), `${id}.json`));
  for (const [index, id] of ids.entries()) {
    const file = files[index]!;
    writeFileSync(
      file,
      JSON.stringify({
        id,
        title: `evidence concurrency ${id}`,
        owner: 'tests',
        objectives: { rto: '5m', rpo: '1m' },
        steps: [{ id: 'hold', kind: 'wait', duration: '2s' }],
      }),
    );
  }
  const started = await Promise.all(
    files.map((file) =>
      drctl(['failover', file, '--reason', 'concurrent end', '--yes', '--output', 'json'], env),
    ),
  );
  expect(started.map((run) => ({ code: run.code, stderr: run.stderr }))).toEqual(
    ids.map(() => ({ code: 0, stderr: '' })),
  );
  const runIds = started.map((run) => (JSON.parse(run.stdout) as { workflowId: string }).workflowId);
  const bundles = await Promise.all(runIds.map((id) => bundleOf(id)));

  const entries = await chainEntries();
  expect(entries.map((entry) => entry.sequence)).toEqual(entries.map((_, index) => index + 1));
  const listed = (await drctl(['evidence', 'list'], env)).stdout;
  expect(listed).toMatch(/^SEQUENCE +WRITTEN +KIND +OUTCOME +RUN +FILES\n/);
  for (const id of runIds) expect(listed).toMatch(new RegExp(`failover +succeeded +${id} +\\d+\\n`));
  expect(entries.every((entry) => entry.state === 'present')).toBe(true);
  for (const id of runIds) expect(entries.filter((entry) => entry.workflowId === id)).toHaveLength(1);
  // Each names the manifest before it: a single line, whatever order they closed in.
  for (const bundle of bundles) {
    const previousKey = layout.manifestKey(bundle.sequence - 1);
    expect(bundle.manifest.previousManifestSha256).toBe(sha256Hex(await objectBytes(previousKey)));
  }
});

test('no secret value of the configuration reaches the evidence', async () => {
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as {
    evidence: { signingKeyFile: string };
  };
  const secrets = configuredSecretValues(stack, config.evidence.signingKeyFile);
  expect(secrets.every((secret) => secret.length >= 16)).toBe(true);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: layout.root }));
  expect(listed.Contents!.length).toBeGreaterThan(20);
  for (const object of listed.Contents ?? []) {
    const text = (await objectBytes(object.Key!)).toString('utf8');
    const decoded = text.includes('"payloadType"')
      ? Buffer.from((JSON.parse(text) as DsseEnvelope).payload, 'base64').toString()
      : text;
    for (const secret of secrets) {
      expect({ key: object.Key, found: text.includes(secret) || decoded.includes(secret) }).toEqual({
        key: object.Key,
        found: false,
      });
    }
  }
});

describe('drctl evidence verify', () => {
  test('passes on the chain as written, and on a faithful copy', async () => {
    const run = await drctl(['evidence', 'verify'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      '✔ verified: every file hash, manifest link, signature, sequence and retention holds',
    );
    const copy = await verifyJson(await cloneChain('copy'));
    expect(copy.code).toBe(0);
    expect(copy.report.ok).toBe(true);
    expect(copy.report.manifests).toBeGreaterThanOrEqual(5);
    // --since a date starts at the first manifest S3 stored then (its LastModified, to the second).
    const last = copy.report.last!;
    const stored = await s3.send(
      new HeadObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: layout.manifestKey(last) }),
    );
    const since = await drctl(
      ['evidence', 'verify', '--since', stored.LastModified!.toISOString(), '--output', 'json'],
      env,
    );
    const recent = JSON.parse(since.stdout) as VerifyReport;
    expect(since.code).toBe(0);
    expect(recent).toMatchObject({ ok: true, last });
    expect(recent.first).toBeGreaterThan(1);
  });

  test('an edited file: which file, expected and actual hash', async () => {
    const bucket = await cloneChain('edited');
    const { manifest } = await bundleOf(failoverId, env, failoverRunId);
    const file = manifest.files.find((candidate) => candidate.path === 'result.json')!;
    const edited = Buffer.from((await objectBytes(file.key)).toString().replace('"succeeded"', '"failed"'));
    await putVersion(bucket, file.key, edited, addYears(new Date(), 7));
    const { code, report } = await verifyJson(bucket);
    expect(code).toBe(1);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'edited-file',
        sequence: manifest.sequence,
        key: file.key,
        expected: file.sha256,
        actual: sha256Hex(edited),
      }),
    ]);
    expect(report.problems[0]!.message).toContain(
      `edited file result.json of ${failoverId} (manifest ${manifest.sequence})`,
    );
    const text = await drctl(['evidence', 'verify'], { ...env, DRCTL_EVIDENCE_BUCKET: bucket });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`✖ [edited-file] edited file result.json of ${failoverId}`);
  });

  test('a gap: a fabricated manifest past the end leaves a missing sequence', async () => {
    const bucket = await cloneChain('gap');
    const last = (await chainEntries()).length;
    await putVersion(
      bucket,
      layout.manifestKey(last + 2),
      await objectBytes(layout.manifestKey(last)),
      addYears(new Date(), 7),
    );
    const { code, report } = await verifyJson(bucket);
    expect(code).toBe(1);
    expect(report.problems.find((problem) => problem.kind === 'gap')?.message).toBe(
      `gap in the chain: manifest sequence ${last + 1} is missing (no object at all); the chain jumps from ${last} to ${last + 2}`,
    );
  });

  test('a reordered link: two manifests swapped', async () => {
    const bucket = await cloneChain('reordered');
    const first = await objectBytes(layout.manifestKey(1));
    const second = await objectBytes(layout.manifestKey(2));
    await putVersion(bucket, layout.manifestKey(1), second, addYears(new Date(), 7));
    await putVersion(bucket, layout.manifestKey(2), first, addYears(new Date(), 7));
    const { code, report } = await verifyJson(bucket);
    expect(code).toBe(1);
    const messages = report.problems.map((problem) => problem.message);
    expect(messages).toContain(
      `reordered link at position 1: ${layout.manifestKey(1)} holds the manifest of sequence 2 (run ${JSON.parse(manifestPayloadOf(second)).run.workflowId})`,
    );
    expect(messages.some((message) => message.startsWith('reordered link at position 2:'))).toBe(true);
    expect(
      report.problems.some((problem) => problem.kind === 'bad-signature' || problem.kind === 'edited-file'),
    ).toBe(false);
  });

  test('a shortened retention: an object version locked for one year', async () => {
    const bucket = await cloneChain('retention');
    const { manifest } = await bundleOf(drillId);
    const file = manifest.files[0]!;
    const oneYear = addYears(new Date(), 1);
    await putVersion(bucket, file.key, await objectBytes(file.key), oneYear);
    const { code, report } = await verifyJson(bucket);
    expect(code).toBe(1);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'retention-shortened',
        key: file.key,
        actual: oneYear.toISOString(),
        expected: addYears(new Date(manifest.createdAt), 6).toISOString(),
      }),
    ]);
    expect(report.problems[0]!.message).toContain(`shortened retention of file history.json of ${drillId}`);
  });

  test('a bad signature: the newest manifest edited without the key', async () => {
    const bucket = await cloneChain('signature');
    const last = (await chainEntries()).length;
    const envelope = JSON.parse((await objectBytes(layout.manifestKey(last))).toString()) as DsseEnvelope;
    const manifest = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as EvidenceManifest;
    const forged = {
      ...envelope,
      payload: manifestPayload({ ...manifest, run: { ...manifest.run, outcome: 'failed' } }).toString(
        'base64',
      ),
    };
    await putVersion(bucket, layout.manifestKey(last), JSON.stringify(forged), addYears(new Date(), 7));
    const { code, report } = await verifyJson(bucket);
    expect(code).toBe(1);
    expect(report.problems.map((problem) => problem.kind)).toEqual(['bad-signature']);
    expect(report.problems[0]!.message).toMatch(
      new RegExp(
        `^bad signature on manifest ${last} \\(.*\\): the signature by key [0-9a-f]{16}… does not verify`,
      ),
    );
  });

  test('a deleted manifest: the delete marker is named (Object Lock keeps the version)', async () => {
    const bucket = await cloneChain('deleted');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: layout.manifestKey(2) }));
    const { code, report } = await verifyJson(bucket);
    expect(code).toBe(1);
    expect(report.problems.map((problem) => problem.kind)).toEqual(['deleted']);
    expect(report.problems[0]!.message).toContain('manifest 2 is deleted');
  });

  // Last: from here on the namespace holds a closed run the chain lacks.
  test('a run terminated before it asked for its bundle: the chain still holds, but verify fails naming the run and what to keep', async () => {
    const file = join(catalogDir(env), 'evidence-terminated.json');
    writeFileSync(
      file,
      JSON.stringify({
        id: 'evidence-terminated',
        title: 'evidence: a run an operator terminates',
        owner: 'tests',
        objectives: { rto: '5m', rpo: '1m' },
        steps: [{ id: 'hold', kind: 'wait', duration: '5m' }],
      }),
    );
    const started = await drctl(
      ['failover', file, '--reason', 'to be terminated', '--yes', '--output', 'json'],
      env,
    );
    expect(started.code).toBe(0);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    await withSandboxClient(stack, (client) =>
      client.workflow.getHandle(workflowId).terminate('an operator ended it with the temporal CLI'),
    );

    expect((await drctl(['evidence', 'verify', '--chain-only'], env)).code).toBe(0);
    // Before: the chain verified, and nothing said this run has no evidence.
    const verify = await drctl(['evidence', 'verify', '--output', 'json'], env);
    expect(verify.code).toBe(1);
    const report = JSON.parse(verify.stdout) as VerifyReport;
    expect(report.problems).toEqual([]);
    const runs = report.runs as RunCoverage;
    expect(runs.checked).toBeGreaterThanOrEqual(6);
    expect(runs.unbundled).toEqual([
      expect.objectContaining({
        workflowId,
        status: 'TERMINATED',
        hint: expect.stringMatching(
          /^it was terminated, and a terminated run never asks for its bundle: bundle it from what Temporal still holds, .*: drctl evidence collect failover-evidence-terminated --run-id /,
        ),
      }),
    ]);
    const text = await drctl(['evidence', 'verify'], env);
    expect(text.stdout).toContain(`✖ [unbundled-run] failoverWorkflow ${workflowId} run `);

    // As the hint says: the ledger bundles it from Temporal, and the chain is whole again.
    const { runId } = runs.unbundled[0]!;
    const collected = await drctl(['evidence', 'collect', workflowId, '--run-id', runId], env);
    expect(collected.stderr).toBe('');
    expect(collected.stdout).toMatch(new RegExp(`^${workflowId} run ${runId} bundled: bundle \\d+`));
    const { manifest } = await bundleOf(workflowId, env, runId);
    expect(manifest.run).toMatchObject({ outcome: 'terminated', closeStatus: 'TERMINATED' });
    expect((await drctl(['evidence', 'collect', workflowId, '--run-id', runId], env)).stdout).toContain(
      'is already in the chain',
    );
    expect((await drctl(['evidence', 'verify'], env)).code).toBe(0);
  });
});

function manifestPayloadOf(bytes: Buffer): string {
  return Buffer.from((JSON.parse(bytes.toString()) as DsseEnvelope).payload, 'base64').toString();
}
