import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import ehrDb from '../../runbooks/examples/ehr-db';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { DrillResult } from '../../workflows/drill-types';
import type { FailoverResult } from '../../workflows/run-types';
import { drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { configuredSecretValues } from './configured-secrets';

/**
 * Protected data on the real stack: with the payload codec on, the history Temporal stores (read with the
 * `temporal` CLI, no codec) holds no runbook content, reason, error message or connection name, while drctl
 * and the sandbox's codec server read it back; connection secrets come from Secrets Manager and no secret
 * value appears in history, logs or reports.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
const workerLog: string[] = [];
const cliLog: string[] = [];
const runbookDir = mkdtempSync(join(tmpdir(), 'drctl-security-'));

beforeAll(async () => {
  stack = await resetStack();
  // The sandbox's config: codec on, new payloads under the local keyring; secrets from Secrets Manager.
  env = drctlEnv(stack, `security-${randomUUID()}`);
  worker = await startWorkerProcess(env, (chunk) => workerLog.push(chunk));
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack();
});

async function cli(args: string[], withEnv = env): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = await drctl(args, withEnv);
  cliLog.push(run.stdout, run.stderr);
  return run;
}

/** `temporal <args> --output json` against the sandbox's dev server, with no codec unless `codec` is set. */
function temporalCli(args: string[], codec?: { endpoint: string; auth: string }): Promise<string> {
  const connection = [
    '--address',
    stack.temporal.address,
    '--namespace',
    stack.temporal.namespace,
    '--output',
    'json',
  ];
  const decode = codec ? ['--codec-endpoint', codec.endpoint, '--codec-auth', codec.auth] : [];
  return new Promise((resolve, reject) => {
    execFile(
      stack.temporal.binary,
      [...args, ...connection, ...decode],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`temporal ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

/** Raw JSON plus every base64 `data`/metadata value decoded: what someone with database access could read. */
function readable(rawJson: string): string {
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if ((key === 'data' || key === 'encoding') && typeof inner === 'string') {
          decoded.push(Buffer.from(inner, 'base64').toString('latin1'));
        } else if (key === 'metadata' && inner !== null && typeof inner === 'object') {
          for (const v of Object.values(inner))
            if (typeof v === 'string') decoded.push(Buffer.from(v, 'base64').toString('latin1'));
        } else walk(inner);
      }
    }
  };
  walk(JSON.parse(rawJson));
  return `${rawJson}\n${decoded.join('\n')}`;
}

const codecServer = () => ({
  endpoint: stack.security.codecServer.url,
  auth: `Bearer ${stack.security.codecServer.token}`,
});
const rawHistory = (workflowId: string) => temporalCli(['workflow', 'show', '--workflow-id', workflowId]);
const decodedHistory = (workflowId: string) =>
  temporalCli(['workflow', 'show', '--workflow-id', workflowId], codecServer());

/** Text only the runbook, the operator and the worker's configuration know: none may be readable in history. */
const RUNBOOK_TEXT = [
  'promote-replica',
  'switch-dns',
  'fence-primary',
  'ehr-db.sandbox.drctl.internal',
  'sandbox.drctl.internal',
  'ehr-degraded-mode',
  '127.0.0.3',
];
const CONNECTION_NAMES = ['ehr-primary', 'ehr-replica', 'ehr-app'];

const history: Record<string, string> = {};

const drill = { id: '', reportText: [] as string[] };

test('GIVEN the codec on WHEN a drill runs THEN its reports render from the encrypted history', async () => {
  const run = await cli([
    'drill',
    'run',
    'ehr-db',
    '--reason',
    'secret scan drill',
    '--follow',
    '--restore-sandbox',
    '--output',
    'json',
  ]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) as string });
  drill.id = (JSON.parse(run.stdout) as DrillResult).drillId;
  const reports = join(runbookDir, 'reports');
  mkdirSync(reports);
  for (const format of ['md', 'html', 'json', 'junit']) {
    expect(
      (await cli(['report', drill.id, '--format', format, '--out', join(reports, `${drill.id}.${format}`)]))
        .code,
    ).toBe(0);
  }
  drill.reportText = readdirSync(reports).map((name) => readFileSync(join(reports, name), 'utf8'));
  expect(drill.reportText.join('\n')).toContain(drill.id);
  expect(readable(await rawHistory(drill.id))).not.toContain('secret scan drill');
});

test('GIVEN the codec on KMS envelope keys WHEN a failover runs THEN raw history hides runbook, reason and connection names, and drctl reads them back', async () => {
  const reason = `INC-${randomUUID()} primary region lost`;
  // Worker and CLI make data keys under the sandbox's KMS key (GenerateDataKey/Decrypt on moto).
  const kmsEnv = {
    ...env,
    DRCTL_TASK_QUEUE: `security-kms-${randomUUID()}`,
    DRCTL_CODEC_KMS_KEY_ID: stack.security.kms.alias,
  };
  const kmsWorker = await startWorkerProcess(kmsEnv, (chunk) => workerLog.push(chunk));
  let run;
  try {
    run = await cli(
      ['failover', 'ehr-db', '--reason', reason, '--yes', '--follow', '--output', 'json'],
      kmsEnv,
    );
  } finally {
    await stopProcess(kmsWorker);
  }

  expect(run.code).toBe(0);
  const { workflowId } = JSON.parse(run.stdout) as FailoverResult;
  const raw = await rawHistory(workflowId);
  history.failover = raw;
  const seen = readable(raw);
  for (const text of [reason, 'INC-', ...RUNBOOK_TEXT, ...CONNECTION_NAMES]) expect(seen).not.toContain(text);
  // Every payload but the search attributes is encrypted, each naming its KMS key.
  const encodings = [...raw.matchAll(/"encoding":\s*"([^"]+)"/g)].map((m) =>
    Buffer.from(m[1]!, 'base64').toString(),
  );
  expect(encodings.filter((e) => e === 'binary/encrypted').length).toBeGreaterThan(20);
  expect(new Set(encodings)).toEqual(new Set(['binary/encrypted', 'json/plain']));
  expect(seen).toMatch(/kms:arn:aws:kms:[a-z0-9-]+:\d+:key\//);

  // The sandbox's config names no KMS key, yet reads this history: the payloads name their key.
  const status = JSON.parse((await cli(['status', workflowId, '--output', 'json'])).stdout) as FailoverResult;
  expect(status).toMatchObject({ status: 'succeeded', reason });
  expect(status.timeline.map((entry) => entry.stepId)).toContain('promote-replica');
  const viaCodecServer = readable(await decodedHistory(workflowId));
  expect(viaCodecServer).toContain(reason);
  expect(viaCodecServer).toContain('ehr-replica');
});

test('GIVEN a connection secret that does not exist WHEN the run fails THEN the error is encrypted in history, and drctl shows what to do', async () => {
  const missing = `drctl/sandbox/postgres/missing-${randomUUID()}`;
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as {
    postgres: { connections: Record<string, unknown> };
  };
  config.postgres.connections['ehr-replica'] = { secret: missing };
  const file = join(runbookDir, 'drctl.config.json');
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  const badEnv = { ...env, DRCTL_CONFIG: file, DRCTL_TASK_QUEUE: `security-missing-${randomUUID()}` };
  const badWorker = await startWorkerProcess(badEnv, (chunk) => workerLog.push(chunk));
  try {
    const run = await cli(
      ['failover', 'ehr-db', '--reason', 'missing secret', '--yes', '--follow', '--output', 'json'],
      badEnv,
    );

    expect(run.code).toBe(1);
    const { workflowId } = JSON.parse(run.stdout) as FailoverResult;
    const status = JSON.parse(
      (await cli(['status', workflowId, '--output', 'json'], badEnv)).stdout,
    ) as FailoverResult;
    const failure = JSON.stringify(status);
    expect(failure).toContain(`secret ${missing} does not exist in Secrets Manager`);
    expect(failure).toContain('fix the secret name in the worker configuration');

    const raw = await rawHistory(workflowId);
    history.failed = raw;
    const seen = readable(raw);
    for (const text of [
      missing,
      'does not exist',
      'Secrets Manager',
      'missing secret',
      ...CONNECTION_NAMES,
      ...RUNBOOK_TEXT,
    ]) {
      expect(seen).not.toContain(text);
    }
    expect(seen).toContain('Encoded failure');
  } finally {
    await stopProcess(badWorker);
  }
});

test('GIVEN a drill schedule WHEN it is stored THEN its action arguments and memo are encrypted too', async () => {
  const id = `ehr-db-sched-${randomUUID().slice(0, 8)}`;
  const file = join(runbookDir, `${id}.json`);
  writeFileSync(file, JSON.stringify({ ...ehrDb, id }));
  const reason = `quarterly drill ${randomUUID()}`;
  const created = await cli([
    'drill',
    'schedule',
    file,
    '--quarterly',
    '--timezone',
    'UTC',
    '--reason',
    reason,
  ]);
  expect(created.code).toBe(0);
  try {
    const raw = await temporalCli(['schedule', 'describe', '--schedule-id', `drill-${id}`]);
    const seen = readable(raw);
    for (const text of [reason, ...RUNBOOK_TEXT, ...CONNECTION_NAMES]) expect(seen).not.toContain(text);
    expect(seen).toContain('binary/encrypted');
    const decoded = readable(
      await temporalCli(['schedule', 'describe', '--schedule-id', `drill-${id}`], codecServer()),
    );
    expect(decoded).toContain(reason);
  } finally {
    await cli(['drill', 'delete', file]);
  }
});

test('GIVEN the sandbox codec server WHEN called anonymously or from a foreign origin THEN it refuses; from the Web UI origin it allows CORS', async () => {
  const url = stack.security.codecServer.url;
  const anonymous = await fetch(`${url}/decode`, {
    method: 'POST',
    body: '{"payloads":[]}',
    headers: { 'X-Namespace': 'default' },
  });
  const uiOrigin = stack.security.codecServer.allowedOrigins[0]!;
  const preflight = (origin: string) =>
    fetch(`${url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
    });

  expect(anonymous.status).toBe(401);
  expect((await preflight('http://127.0.0.1:1')).status).toBe(403);
  const allowed = await preflight(uiOrigin);
  expect(allowed.status).toBe(204);
  expect(allowed.headers.get('access-control-allow-origin')).toBe(uiOrigin);
  expect(uiOrigin).toBe(stack.temporal.uiUrl);
});

test('no configured secret value is in raw or decoded history, the worker or CLI logs, or the drill reports', async () => {
  const drillId = drill.id;
  const reportText = drill.reportText;
  const drillHistory = readable(await rawHistory(drillId));
  const decoded = [
    readable(await decodedHistory(drillId)),
    readable(await decodedHistory(`${drillId}-failover`)),
    ...(await Promise.all(
      Object.values(history).map((raw) => {
        const workflowId = /"workflowId":\s*"([^"]+)"/.exec(raw)?.[1];
        return workflowId ? decodedHistory(workflowId).then(readable) : '';
      }),
    )),
  ];
  expect(decoded.join('\n')).toContain('secret scan drill');

  const secrets = configuredSecretValues(stack);
  expect(secrets.every((secret) => secret.length >= 16)).toBe(true);
  const corpus = {
    rawHistory: [...Object.values(history).map(readable), drillHistory].join('\n'),
    decodedHistory: decoded.join('\n'),
    workerLog: workerLog.join(''),
    cliLog: cliLog.join('\n'),
    reports: reportText.join('\n'),
  };
  expect(corpus.workerLog).toContain('drctl worker polling');
  for (const [where, text] of Object.entries(corpus)) {
    const found = secrets.filter((secret) => text.includes(secret));
    expect({ where, found }).toEqual({ where, found: [] });
  }
});
