import { resolve } from 'node:path';
import { SANDBOX_DIR } from '../sandbox-paths';
import type { SandboxSettings } from '../sandbox-settings';
import type { StackInfo } from '../stack-info';
import { TEMPORAL_TLS_SERVER_NAME, type SandboxCertificates } from './sandbox-certificates';
import { temporalHttpTlsAddress, temporalTlsAddress } from './temporal-tls-proxy';

/** The drctl config for the TLS side of the stack (mTLS to Temporal, verify-full to PostgreSQL). */
export const TLS_CONFIG_FILE = resolve(SANDBOX_DIR, 'drctl.tls.config.json');

/** `url` with `sslmode=verify-full` and the CA that signed the server's certificate, as libpq spells it. */
export function verifyFullUrl(url: string, caFile: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('sslmode', 'verify-full');
  parsed.searchParams.set('sslrootcert', caFile);
  return parsed.toString();
}

export function describeTlsStack(
  settings: SandboxSettings,
  postgres: StackInfo['postgres'],
  certificates: SandboxCertificates,
): StackInfo['tls'] {
  return {
    caFile: certificates.caFile,
    clientCertFile: certificates.drctlClient.certFile,
    clientKeyFile: certificates.drctlClient.keyFile,
    temporal: {
      address: temporalTlsAddress(settings),
      httpAddress: temporalHttpTlsAddress(settings),
      serverName: TEMPORAL_TLS_SERVER_NAME,
    },
    postgres: {
      primaryUrl: verifyFullUrl(postgres.primaryUrl, certificates.caFile),
      replicaUrl: verifyFullUrl(postgres.replicaUrl, certificates.caFile),
      appUrl: verifyFullUrl(postgres.appUrl, certificates.caFile),
    },
    configFile: TLS_CONFIG_FILE,
  };
}
