import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chownToPostgres } from '../postgres-cluster';
import { SANDBOX_DIR } from '../sandbox-paths';
import { LOOPBACK, PRIMARY_HOST, REPLICA_HOST } from '../sandbox-settings';
import {
  ensureCertificateAuthority,
  issueCertificate,
  type CertificateRequest,
  type IssuedCertificate,
} from './certificate-authority';

export const TLS_DIR = resolve(SANDBOX_DIR, 'tls');

/** The name the Temporal TLS proxy's certificate holds; clients check it (TEMPORAL_TLS_SERVER_NAME). */
export const TEMPORAL_TLS_SERVER_NAME = 'temporal.sandbox.drctl.internal';

/** Every certificate of the sandbox's TLS side, all signed by one CA the sandbox generates. */
export interface SandboxCertificates {
  caFile: string;
  /** Server certificate of the TLS proxy in front of the Temporal dev server. */
  temporalProxy: IssuedCertificate;
  /** The client certificate drctl (worker and CLI) presents to the proxy. */
  drctlClient: IssuedCertificate;
  /** Server certificates of the PostgreSQL primary (127.0.0.2) and replica (127.0.0.3), keys owned by postgres. */
  pgPrimary: IssuedCertificate;
  pgReplica: IssuedCertificate;
}

const REQUESTS: Record<Exclude<keyof SandboxCertificates, 'caFile'>, CertificateRequest> = {
  temporalProxy: {
    name: 'temporal-proxy',
    commonName: TEMPORAL_TLS_SERVER_NAME,
    dnsNames: [TEMPORAL_TLS_SERVER_NAME],
    ipAddresses: [LOOPBACK],
    usage: 'server',
  },
  drctlClient: { name: 'drctl-client', commonName: 'drctl-worker', usage: 'client' },
  pgPrimary: {
    name: 'pg-primary',
    commonName: 'pg-primary.sandbox.drctl.internal',
    dnsNames: ['pg-primary.sandbox.drctl.internal'],
    ipAddresses: [PRIMARY_HOST],
    usage: 'server',
  },
  pgReplica: {
    name: 'pg-replica',
    commonName: 'pg-replica.sandbox.drctl.internal',
    dnsNames: ['pg-replica.sandbox.drctl.internal'],
    ipAddresses: [REPLICA_HOST],
    usage: 'server',
  },
};

/** Where the certificates live (`.sandbox/tls`), whether or not they exist yet. */
export function sandboxCertificatePaths(): SandboxCertificates {
  const issued = (name: string): IssuedCertificate => ({
    certFile: resolve(TLS_DIR, `${name}.crt`),
    keyFile: resolve(TLS_DIR, `${name}.key`),
  });
  return {
    caFile: resolve(TLS_DIR, 'ca.crt'),
    temporalProxy: issued(REQUESTS.temporalProxy.name),
    drctlClient: issued(REQUESTS.drctlClient.name),
    pgPrimary: issued(REQUESTS.pgPrimary.name),
    pgReplica: issued(REQUESTS.pgReplica.name),
  };
}

/** A week of margin: a certificate expiring mid-drill would look like a product fault. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

/**
 * Creates the CA and each certificate that is missing or expires within a week (a new CA re-issues all).
 * Fast when everything is there: it only reads the files.
 */
export async function ensureSandboxCertificates(
  log: (line: string) => void = () => undefined,
): Promise<SandboxCertificates> {
  const paths = sandboxCertificatePaths();
  const caFresh = isFresh(paths.caFile);
  const ca = await ensureCertificateAuthority(TLS_DIR, 'drctl sandbox CA', { replace: !caFresh });
  if (!caFresh) log(`tls: created the sandbox CA ${paths.caFile}`);
  for (const [key, request] of Object.entries(REQUESTS) as Array<
    [keyof typeof REQUESTS, CertificateRequest]
  >) {
    if (caFresh && isFresh(paths[key].certFile) && existsSync(paths[key].keyFile)) continue;
    await issueCertificate(ca, TLS_DIR, request);
    log(`tls: issued ${paths[key].certFile} (${request.commonName})`);
  }
  // PostgreSQL refuses a key file that its server user does not own (or that others can read).
  chownToPostgres(paths.pgPrimary.keyFile);
  chownToPostgres(paths.pgReplica.keyFile);
  return paths;
}

function isFresh(certFile: string): boolean {
  if (!existsSync(certFile)) return false;
  const validTo = new Date(new X509Certificate(readFileSync(certFile)).validTo).getTime();
  return validTo - Date.now() > RENEW_BEFORE_MS;
}
