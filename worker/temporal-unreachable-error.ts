/**
 * Temporal could not be reached or refused the TLS handshake. The environment's fault (exit 3): the message names
 * the address, the server's words, and the settings to check.
 */
export class TemporalUnreachableError extends Error {
  readonly code = 'TemporalUnreachable';

  constructor(address: string, tls: boolean, cause: unknown) {
    super(
      `cannot reach Temporal at ${address} (${errorFirstLine(cause)}). ` +
        'Check TEMPORAL_ADDRESS (or temporal.address in the config file) and that the server is up' +
        (tls
          ? "; with TLS, that the server trusts the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH) and the CA (TEMPORAL_TLS_SERVER_CA_CERT_PATH) signed the server's certificate"
          : '') +
        '; for the local stack run `npm run sandbox -- up`.',
    );
    this.name = 'TemporalUnreachableError';
  }
}

function errorFirstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0] ?? '';
}
