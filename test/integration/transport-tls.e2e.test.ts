import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { NativeConnection } from '@temporalio/worker';
import { createPostgresAdapter } from '../../activities/database/postgres-adapter';
import { sandboxPaths } from '../../sandbox/sandbox-paths';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import {
  TEMPORAL_HTTP_TLS_PROXY_PROCESS,
  TEMPORAL_TLS_PROXY_PROCESS,
} from '../../sandbox/tls/temporal-tls-proxy';
import type { FailoverResult } from '../../workflows/run-types';
import { drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue, sql } from './estate-readers';

/**
 * drctl over TLS on the real stack. The worker and the CLI reach Temporal only through the sandbox's mTLS proxy
 * (client certificate checked, ALPN h2), and every PostgreSQL connection of the worker is
 * `sslmode=verify-full` against the sandbox's CA. The worker is configured by the `temporal` CLI's environment
 * names, the CLI by the sandbox's TLS config file. A client without a certificate is refused by the proxy, and
 * verify-full refuses a server whose certificate names another host.
 */
let stack: StackInfo;
let workerEnv: NodeJS.ProcessEnv;
let cliEnv: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

const proxyLog = sandboxPaths.logFile(TEMPORAL_TLS_PROXY_PROCESS);
const logSize = () => statSync(proxyLog).size;
const logSince = (offset: number) => readFileSync(proxyLog).subarray(offset).toString();
const httpLog = sandboxPaths.logFile(TEMPORAL_HTTP_TLS_PROXY_PROCESS);

beforeAll(async () => {
  stack = await resetStack();
  const base = drctlEnv(stack, `tls-${randomUUID()}`);
  workerEnv = {
    ...base,
    TEMPORAL_ADDRESS: stack.tls.temporal.address,
    TEMPORAL_TLS_CA: stack.tls.caFile,
    TEMPORAL_TLS_CERT: stack.tls.clientCertFile,
    TEMPORAL_TLS_KEY: stack.tls.clientKeyFile,
    TEMPORAL_TLS_SERVER_NAME: stack.tls.temporal.serverName,
    DRCTL_PG_EHR_PRIMARY_URL: stack.tls.postgres.primaryUrl,
    DRCTL_PG_EHR_REPLICA_URL: stack.tls.postgres.replicaUrl,
    DRCTL_PG_EHR_APP_URL: stack.tls.postgres.appUrl,
  };
  cliEnv = { ...base, DRCTL_CONFIG: stack.tls.configFile };
  const before = logSize();
  worker = await startWorkerProcess(workerEnv);
  expect(logSince(before)).toMatch(
    /accepted 127\.0\.0\.1:\d+ as client "drctl-worker" \(TLSv1\.3, ALPN h2\)/,
  );
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack();
});

test('GIVEN mTLS to Temporal and verify-full to PostgreSQL WHEN the operator fails ehr-db over THEN the whole failover runs and takes effect', async () => {
  for (const url of Object.values(stack.tls.postgres))
    expect(url).toMatch(/sslmode=verify-full&sslrootcert=/);
  const httpBefore = statSync(httpLog).size;

  const run = await drctl(
    ['failover', 'ehr-db', '--reason', 'e2e over TLS', '--yes', '--follow', '--output', 'json'],
    cliEnv,
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as FailoverResult;
  expect(result.status).toBe('succeeded');
  expect(result.timeline.map((entry) => `${entry.stepId}:${entry.status}`)).toEqual([
    'preflight:succeeded',
    'degraded-mode-on:succeeded',
    'verify-backups:succeeded',
    'fence-primary:succeeded',
    'promote-replica:succeeded',
    'switch-dns:succeeded',
    'probe-writes:succeeded',
  ]);

  // The CLI started and followed the run over the HTTP API, through its mTLS proxy with drctl's client certificate.
  expect(readFileSync(httpLog).subarray(httpBefore).toString()).toMatch(
    /accepted 127\.0\.0\.1:\d+ as client "drctl-worker"/,
  );
  // The effects, read from the servers, over verify-full sessions that really are TLS.
  const [session] = await sql<{ ssl: boolean; version: string }>(
    stack.tls.postgres.replicaUrl,
    'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()',
  );
  expect(session).toEqual({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) });
  const [replica] = await sql<{ recovering: boolean }>(
    stack.tls.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(false);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  const probeRows = await sql<{ n: string }>(
    stack.tls.postgres.replicaUrl,
    `select count(*) as n from drctl_probe where run_id like '${result.workflowId}/%'`,
  );
  expect(Number(probeRows[0]?.n)).toBe(1);

  // The same CLI, from the same config file with the HTTP API turned off, reads the run back over gRPC through the
  // gRPC proxy with the same client certificate.
  const grpcBefore = logSize();
  const status = await drctl(['status', result.workflowId, '--output', 'json'], {
    ...cliEnv,
    TEMPORAL_HTTP_ADDRESS: '',
  });
  expect(status.code).toBe(0);
  expect((JSON.parse(status.stdout) as FailoverResult).status).toBe('succeeded');
  expect(logSince(grpcBefore)).toMatch(/accepted 127\.0\.0\.1:\d+ as client "drctl-worker"/);

  // With gRPC's address closed, status reads the run from the HTTP API through its own mTLS proxy, with the
  // same client certificate, and prints what gRPC printed; without the certificate the HTTP proxy refuses it too.
  const overHttp = await drctl(['status', result.workflowId, '--output', 'json'], {
    ...cliEnv,
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  });
  expect({ code: overHttp.code, stdout: overHttp.stdout }).toEqual({ code: 0, stdout: status.stdout });
  const noCertificate = await drctl(['status', result.workflowId], {
    ...drctlEnv(stack, 'no-certificate-http'),
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    TEMPORAL_HTTP_ADDRESS: stack.tls.temporal.httpAddress,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: stack.tls.caFile,
    TEMPORAL_TLS_SERVER_NAME: stack.tls.temporal.serverName,
  });
  expect(noCertificate.code).toBe(3);
  expect(readFileSync(httpLog).subarray(httpBefore).toString()).toMatch(
    /refused 127\.0\.0\.1:\d+: peer did not return a certificate/,
  );
});

test('GIVEN a client that trusts the CA but has no client certificate THEN the proxy refuses it', async () => {
  const before = logSize();
  // TLS 1.3 sends the refusal after the handshake: the client reads the alert or finds the connection closed.
  await expect(
    NativeConnection.connect({
      address: stack.tls.temporal.address,
      tls: {
        serverRootCACertificate: readFileSync(stack.tls.caFile),
        serverNameOverride: stack.tls.temporal.serverName,
      },
    }),
  ).rejects.toThrow(/CertificateRequired|broken pipe|connection closed/);

  const withoutCertificate = {
    ...drctlEnv(stack, 'no-certificate'),
    TEMPORAL_ADDRESS: stack.tls.temporal.address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: stack.tls.caFile,
    TEMPORAL_TLS_SERVER_NAME: stack.tls.temporal.serverName,
  };
  const refused = await drctl(['drill', 'schedules', '--output', 'json'], withoutCertificate);
  expect(refused.code).toBe(3);
  expect(JSON.parse(refused.stdout).error).toMatchObject({
    code: 'TemporalUnreachable',
    message: expect.stringContaining('trusts the client certificate'),
  });
  expect(logSince(before)).toMatch(/refused 127\.0\.0\.1:\d+: peer did not return a certificate/);

  // A worker without the certificate stops at once with the environment's exit code and what to check.
  const worker = await drctl(['worker'], withoutCertificate);
  expect(worker.code).toBe(3);
  expect(worker.stderr).toMatch(/cannot reach Temporal at .*TEMPORAL_TLS_CLIENT_CERT_PATH/);

  // The same command with the client certificate gets through: the certificate is the only difference.
  const allowed = await drctl(['drill', 'schedules', '--output', 'json'], {
    ...withoutCertificate,
    TEMPORAL_TLS_CLIENT_CERT_PATH: stack.tls.clientCertFile,
    TEMPORAL_TLS_CLIENT_KEY_PATH: stack.tls.clientKeyFile,
  });
  expect(allowed.code).toBe(0);
});

test('GIVEN sslmode=verify-full WHEN the server at the address holds a certificate for another name THEN the connection is refused for good', async () => {
  // A TCP relay on 127.0.0.4 to the primary: a misrouted endpoint whose server has a valid certificate
  // from the same CA, but for 127.0.0.2.
  const relay = await startRelay('127.0.0.4', {
    host: stack.postgres.primaryHost,
    port: stack.postgres.port,
  });
  try {
    const relayed = (sslmode: string) => {
      const url = new URL(stack.tls.postgres.primaryUrl);
      url.hostname = '127.0.0.4';
      url.port = String((relay.address() as AddressInfo).port);
      url.searchParams.set('sslmode', sslmode);
      if (sslmode === 'verify-ca') url.searchParams.set('uselibpqcompat', 'true');
      return url.toString();
    };
    const postgres = createPostgresAdapter({
      connections: { 'misrouted-full': relayed('verify-full'), 'misrouted-ca': relayed('verify-ca') },
    });
    // Refused for good: a retry cannot change the certificate, so the step fails at once with what to check.
    await expect(postgres.memberStatus('misrouted-full')).rejects.toMatchObject({
      type: 'TlsVerificationFailed',
      nonRetryable: true,
      message: expect.stringMatching(
        /Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.4 is not in the cert's list: 127\.0\.0\.2.*sslrootcert/,
      ),
    });
    // The CA check alone (libpq's verify-ca) lets the same server through: it was the name check that refused.
    await expect(postgres.memberStatus('misrouted-ca')).resolves.toMatchObject({ inRecovery: false });
  } finally {
    await new Promise((resolve) => relay.close(resolve));
  }
});

function startRelay(host: string, target: { host: string; port: number }): Promise<Server> {
  const relay = createServer((client) => {
    const upstream = connect(target.port, target.host);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(0, host, () => resolve(relay));
  });
}
