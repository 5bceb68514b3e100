import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, temporalTlsEnvNames, type DrctlConfig } from './config';

/** What both `Connection.connect` (CLI) and `NativeConnection.connect` (worker) take to reach Temporal. */
export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  tls?: TLSConfig | boolean;
}

type PemSetting = 'tlsCert' | 'tlsKey' | 'tlsCa';

const WHAT: Record<PemSetting, string> = {
  tlsCert: 'Temporal client certificate',
  tlsKey: 'Temporal client key',
  tlsCa: 'Temporal server CA certificate',
};

/**
 * Connection options from `config.temporal`: plain, TLS, or mTLS with a client certificate. Reads and checks
 * the PEM files first, so a wrong path, a key that does not belong to its certificate or an expired certificate
 * is a ConfigError naming the setting and the file, not a failed TLS handshake later.
 */
export function temporalConnectionOptions(
  temporal: DrctlConfig['temporal'],
  options: { cwd?: string; now?: Date } = {},
): TemporalConnectionOptions {
  const cwd = options.cwd ?? process.cwd();
  const now = options.now ?? new Date();
  const { address, apiKey } = temporal;
  const base = { address, ...(apiKey === undefined ? {} : { apiKey }) };
  if (!temporal.tls) return base;
  if (temporal.tlsDisableHostVerification) {
    throw new ConfigError(
      `temporal.tlsDisableHostVerification (TEMPORAL_TLS_DISABLE_HOST_VERIFICATION) is set, but drctl always verifies the Temporal server's certificate: unset it, and if the certificate names another host than ${address}, set temporal.tlsServerName (TEMPORAL_TLS_SERVER_NAME) to a name it holds`,
    );
  }
  const crt = readPem(temporal, 'tlsCert', cwd);
  const key = readPem(temporal, 'tlsKey', cwd);
  const ca = readPem(temporal, 'tlsCa', cwd);
  if ((crt === undefined) !== (key === undefined)) {
    const [has, lacks] =
      crt === undefined ? (['tlsKey', 'tlsCert'] as const) : (['tlsCert', 'tlsKey'] as const);
    throw new ConfigError(
      `${describe(has)} is set but ${describe(lacks)} is not: mTLS needs both the client certificate and its key`,
    );
  }
  if (crt !== undefined && key !== undefined) checkClientPair(crt, key, now);
  if (ca !== undefined) parseCertificate(ca, 'tlsCa');
  const tls: TLSConfig = {
    ...(temporal.tlsServerName ? { serverNameOverride: temporal.tlsServerName } : {}),
    ...(ca === undefined ? {} : { serverRootCACertificate: ca.pem }),
    ...(crt !== undefined && key !== undefined ? { clientCertPair: { crt: crt.pem, key: key.pem } } : {}),
  };
  return { ...base, tls };
}

interface Pem {
  pem: Buffer;
  /** Where it came from, for messages: `file /etc/drctl/ca.pem (temporal.tlsCaPath, env …)`. */
  source: string;
}

function readPem(temporal: DrctlConfig['temporal'], setting: PemSetting, cwd: string): Pem | undefined {
  const path = temporal[`${setting}Path`];
  const data = temporal[`${setting}Data`];
  if (path && data) {
    throw new ConfigError(
      `both ${describe(setting, 'Path')} and ${describe(setting, 'Data')} are set for the ${WHAT[setting]}: set only one`,
    );
  }
  if (data) return { pem: Buffer.from(data), source: describe(setting, 'Data') };
  if (!path) return undefined;
  const file = resolve(cwd, path);
  const source = `file ${file} (${describe(setting, 'Path')})`;
  try {
    return { pem: readFileSync(file), source };
  } catch (error) {
    throw new ConfigError(
      `the ${WHAT[setting]} ${source} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix the path or the file's permissions`,
    );
  }
}

function describe(setting: PemSetting, form?: 'Path' | 'Data'): string {
  if (form === undefined) return `${describe(setting, 'Path')} / ${describe(setting, 'Data')}`;
  const key = `${setting}${form}` as const;
  return `temporal.${key}, env ${temporalTlsEnvNames(key)}`;
}

function parseCertificate(pem: Pem, setting: 'tlsCert' | 'tlsCa'): X509Certificate {
  try {
    return new X509Certificate(pem.pem);
  } catch (error) {
    throw new ConfigError(
      `the ${WHAT[setting]} from ${pem.source} is not a PEM certificate (${(error as Error).message}): point it at the certificate file (-----BEGIN CERTIFICATE-----)`,
    );
  }
}

function checkClientPair(crt: Pem, key: Pem, now: Date): void {
  const certificate = parseCertificate(crt, 'tlsCert');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.pem);
  } catch (error) {
    throw new ConfigError(
      `the ${WHAT.tlsKey} from ${key.source} is not an unencrypted PEM private key (${(error as Error).message}): point it at the key file (-----BEGIN PRIVATE KEY-----)`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(
      `the ${WHAT.tlsKey} from ${key.source} does not belong to the ${WHAT.tlsCert} from ${crt.source}: use the key the certificate was issued for`,
    );
  }
  if (new Date(certificate.validTo) < now) {
    throw new ConfigError(
      `the ${WHAT.tlsCert} from ${crt.source} (${certificate.subject.replace(/\n/g, ', ')}) expired on ${new Date(certificate.validTo).toISOString()}: install a renewed certificate`,
    );
  }
}
