import { ApplicationFailure } from '@temporalio/common';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';

/** Retryable failure type for a PostgreSQL server that does not answer (refused, timed out, went away). */
export const POSTGRES_UNREACHABLE = 'PostgresUnreachable';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);
/** Node's certificate verification codes: the server is not the one the CA vouches for under that name. */
const TLS_VERIFICATION_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
]);
/** SQLSTATEs of a server shutting down or not accepting sessions yet: retry later. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08006', '08001', '08004']);

export function isPostgresUnreachable(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.type === POSTGRES_UNREACHABLE;
}

/** Where a connection points, for messages; never carries the password. */
export interface ConnectionLabel {
  name: string;
  host: string;
  port: number;
  user: string;
  database: string;
}

/** Maps a `pg` error to drctl's failures: unreachable → retryable, bad credentials → AccessDenied. */
export function toPostgresFailure(error: unknown, where: ConnectionLabel): unknown {
  if (error instanceof ApplicationFailure) return error;
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  const address = `${where.host}:${where.port}`;
  if ((e.code !== undefined && TLS_VERIFICATION_CODES.has(e.code)) || /does not support SSL/i.test(message)) {
    return permanentFailure(
      PermanentFailure.TlsVerificationFailed,
      `the TLS session to ${address} (connection ${where.name}) failed verification: ${message}; check the connection's host name against the server certificate, and its sslrootcert`,
    );
  }
  const unreachable =
    (e.code !== undefined && (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code))) ||
    /timeout|Connection terminated|ENOTFOUND|EAI_AGAIN/i.test(message);
  if (e.code !== undefined && UNAVAILABLE_SQLSTATES.has(e.code) && !/connect/i.test(message)) {
    return transientFailure(
      POSTGRES_UNREACHABLE,
      `lost the session at ${address} (connection ${where.name}): ${e.code} ${message}; the server is shutting down or another tool ended the session, retrying`,
    );
  }
  if (unreachable) {
    return transientFailure(
      POSTGRES_UNREACHABLE,
      `cannot reach ${address} (connection ${where.name}): ${message}; check that the server is up and listening there`,
    );
  }
  if (e.code === '28P01' || e.code === '28000') {
    return permanentFailure(
      PermanentFailure.AccessDenied,
      `PostgreSQL at ${address} refused user ${where.user} (connection ${where.name}): ${message}; fix the credentials in DRCTL_PG_${envName(where.name)}_URL or postgres.connections.${where.name}`,
    );
  }
  if (e.code === '3D000') {
    return permanentFailure(
      PermanentFailure.ConfigurationMissing,
      `database ${where.database} does not exist at ${address} (connection ${where.name}); fix the database name in postgres.connections.${where.name}`,
    );
  }
  return error;
}

export function envName(connection: string): string {
  return connection.toUpperCase().replace(/-/g, '_');
}
