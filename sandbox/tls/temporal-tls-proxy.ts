import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { isAlive, runningPid, startDetached, stopDetached } from '../detached-process';
import { requireFreePort } from '../free-port';
import { sandboxNode } from '../node-runtime';
import { REPO_ROOT, sandboxPaths } from '../sandbox-paths';
import { LOOPBACK, type SandboxSettings } from '../sandbox-settings';
import { temporalAddress, TEMPORAL_NAMESPACE } from '../temporal-server';
import { waitUntil } from '../wait-until';
import { TEMPORAL_TLS_SERVER_NAME, type SandboxCertificates } from './sandbox-certificates';

export const TEMPORAL_TLS_PROXY_PROCESS = 'temporal-tls-proxy';

/** Where clients reach Temporal over mTLS; the plain address keeps working beside it. */
export function temporalTlsAddress(settings: SandboxSettings): string {
  return `${LOOPBACK}:${settings.ports.temporalTls}`;
}

/** Starts the mTLS proxy in front of the dev server (sandbox/tls/tls-proxy.ts) unless it already answers. */
export async function ensureTemporalTlsProxyUp(
  settings: SandboxSettings,
  certificates: SandboxCertificates,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  if (
    runningPid(TEMPORAL_TLS_PROXY_PROCESS) !== undefined &&
    (await temporalTlsProxyAnswers(settings, certificates))
  ) {
    return;
  }
  await stopDetached(TEMPORAL_TLS_PROXY_PROCESS);
  await requireFreePort(LOOPBACK, settings.ports.temporalTls, 'the Temporal TLS proxy');
  log(
    `temporal-tls: starting the mTLS proxy on ${temporalTlsAddress(settings)} (log ${sandboxPaths.logFile(TEMPORAL_TLS_PROXY_PROCESS)})`,
  );
  const pid = startDetached(
    TEMPORAL_TLS_PROXY_PROCESS,
    sandboxNode(),
    [
      '--require',
      require.resolve('tsx/cjs'),
      resolve(REPO_ROOT, 'sandbox', 'tls', 'tls-proxy-main.ts'),
      '--listen',
      temporalTlsAddress(settings),
      '--upstream',
      temporalAddress(settings),
      '--cert',
      certificates.temporalProxy.certFile,
      '--key',
      certificates.temporalProxy.keyFile,
      '--client-ca',
      certificates.caFile,
    ],
    { cwd: REPO_ROOT },
  );
  await waitUntil(
    `the Temporal mTLS proxy at ${temporalTlsAddress(settings)}`,
    () => temporalTlsProxyAnswers(settings, certificates),
    {
      timeoutMs: 30_000,
      intervalMs: 300,
      hint: `See ${sandboxPaths.logFile(TEMPORAL_TLS_PROXY_PROCESS)}.`,
      stillAlive: () => isAlive(pid),
    },
  );
}

export async function stopTemporalTlsProxy(): Promise<void> {
  await stopDetached(TEMPORAL_TLS_PROXY_PROCESS);
}

/** A real gRPC round trip through the proxy with drctl's client certificate, checking the server's name. */
export async function temporalTlsProxyAnswers(
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
