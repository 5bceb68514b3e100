import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { isAlive, runningPid, startDetached, stopDetached } from '../detached-process';
import { requireFreePort } from '../free-port';
import { sandboxNode } from '../node-runtime';
import { REPO_ROOT, sandboxPaths } from '../sandbox-paths';
import { LOOPBACK, type SandboxSettings } from '../sandbox-settings';
import { temporalAddress, temporalHttpAddress, TEMPORAL_NAMESPACE } from '../temporal-server';
import { waitUntil } from '../wait-until';
import { TEMPORAL_TLS_SERVER_NAME, type SandboxCertificates } from './sandbox-certificates';

export const TEMPORAL_TLS_PROXY_PROCESS = 'temporal-tls-proxy';
/** The same proxy in front of the dev server's HTTP API (`drctl status` reads runs there when configured). */
export const TEMPORAL_HTTP_TLS_PROXY_PROCESS = 'temporal-http-tls-proxy';

/** Where clients reach Temporal over mTLS; the plain address keeps working beside it. */
export function temporalTlsAddress(settings: SandboxSettings): string {
  return `${LOOPBACK}:${settings.ports.temporalTls}`;
}

/** Where clients reach Temporal's HTTP API over mTLS. */
export function temporalHttpTlsAddress(settings: SandboxSettings): string {
  return `${LOOPBACK}:${settings.ports.temporalHttpTls}`;
}

/**
 * Starts the mTLS proxies in front of the dev server (sandbox/tls/tls-proxy.ts), one for gRPC and one for the
 * HTTP API, unless they already answer.
 */
export async function ensureTemporalTlsProxyUp(
  settings: SandboxSettings,
  certificates: SandboxCertificates,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  if (
    runningPid(TEMPORAL_TLS_PROXY_PROCESS) !== undefined &&
    runningPid(TEMPORAL_HTTP_TLS_PROXY_PROCESS) !== undefined &&
    (await temporalTlsProxyAnswers(settings, certificates))
  ) {
    return;
  }
  await stopTemporalTlsProxy();
  const proxies = [
    {
      process: TEMPORAL_TLS_PROXY_PROCESS,
      port: settings.ports.temporalTls,
      listen: temporalTlsAddress(settings),
      upstream: temporalAddress(settings),
    },
    {
      process: TEMPORAL_HTTP_TLS_PROXY_PROCESS,
      port: settings.ports.temporalHttpTls,
      listen: temporalHttpTlsAddress(settings),
      upstream: temporalHttpAddress(settings),
    },
  ];
  const pids: number[] = [];
  for (const proxy of proxies) {
    await requireFreePort(LOOPBACK, proxy.port, `the ${proxy.process}`);
    log(
      `temporal-tls: starting the mTLS proxy on ${proxy.listen} (log ${sandboxPaths.logFile(proxy.process)})`,
    );
    pids.push(
      startDetached(
        proxy.process,
        sandboxNode(),
        [
          '--require',
          require.resolve('tsx/cjs'),
          resolve(REPO_ROOT, 'sandbox', 'tls', 'tls-proxy-main.ts'),
          '--listen',
          proxy.listen,
          '--upstream',
          proxy.upstream,
          '--cert',
          certificates.temporalProxy.certFile,
          '--key',
          certificates.temporalProxy.keyFile,
          '--client-ca',
          certificates.caFile,
        ],
        { cwd: REPO_ROOT },
      ),
    );
  }
  await waitUntil(
    `the Temporal mTLS proxies at ${proxies.map((proxy) => proxy.listen).join(' and ')}`,
    () => temporalTlsProxyAnswers(settings, certificates),
    {
      timeoutMs: 30_000,
      intervalMs: 300,
      hint: `See ${proxies.map((proxy) => sandboxPaths.logFile(proxy.process)).join(' and ')}.`,
      stillAlive: () => pids.every(isAlive),
    },
  );
}

export async function stopTemporalTlsProxy(): Promise<void> {
  await stopDetached(TEMPORAL_TLS_PROXY_PROCESS);
  await stopDetached(TEMPORAL_HTTP_TLS_PROXY_PROCESS);
}

/** Real round trips through both proxies with drctl's client certificate, checking the server's name. */
export async function temporalTlsProxyAnswers(
  settings: SandboxSettings,
  certificates: SandboxCertificates,
): Promise<boolean> {
  const [grpc, http] = await Promise.all([
    grpcThroughProxyAnswers(settings, certificates),
    httpThroughProxyAnswers(settings, certificates),
  ]);
  return grpc && http;
}

/** GET the namespace from the HTTP API through its proxy. */
async function httpThroughProxyAnswers(
  settings: SandboxSettings,
  certificates: SandboxCertificates,
): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const request = httpsRequest(
      {
        host: LOOPBACK,
        port: settings.ports.temporalHttpTls,
        path: `/api/v1/namespaces/${TEMPORAL_NAMESPACE}`,
        servername: TEMPORAL_TLS_SERVER_NAME,
        ca: readFileSync(certificates.caFile),
        cert: readFileSync(certificates.drctlClient.certFile),
        key: readFileSync(certificates.drctlClient.keyFile),
        timeout: 2_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              namespaceInfo?: { name?: string };
            };
            resolveAnswer(response.statusCode === 200 && body.namespaceInfo?.name === TEMPORAL_NAMESPACE);
          } catch {
            resolveAnswer(false);
          }
        });
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolveAnswer(false));
    request.end();
  });
}

async function grpcThroughProxyAnswers(
  settings: SandboxSettings,
  certificates: SandboxCertificates,
): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({
      address: temporalTlsAddress(settings),
      connectTimeout: 2_000,
      tls: {
        serverNameOverride: TEMPORAL_TLS_SERVER_NAME,
        serverRootCACertificate: readFileSync(certificates.caFile),
        clientCertPair: {
          crt: readFileSync(certificates.drctlClient.certFile),
          key: readFileSync(certificates.drctlClient.keyFile),
        },
      },
    });
    const response = await connection.workflowService.describeNamespace({ namespace: TEMPORAL_NAMESPACE });
    return response.namespaceInfo?.name === TEMPORAL_NAMESPACE;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}
