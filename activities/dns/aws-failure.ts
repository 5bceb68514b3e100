import type { ApplicationFailure } from '@temporalio/common';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';

/** What an AWS SDK v3 error carries that we classify on. */
interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  errors?: unknown[];
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClient',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
]);
const THROTTLED = new Set([
  'SlowDown',
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'PriorRequestNotComplete',
  'TooManyRequestsException',
]);
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Turns an AWS SDK error from `operation` into a typed failure: missing things and bad credentials are
 * permanent (retrying will not help), throttling, 5xx and connection errors are retryable.
 */
export function toAwsFailure(
  service: string,
  operation: string,
  error: unknown,
  notFoundNames: ReadonlySet<string>,
  /** What to check when the request is rejected as invalid (a 4xx the cases above do not name). */
  rejectedHint = 'check the values in the runbook',
): ApplicationFailure {
  const e = (error ?? {}) as AwsErrorShape;
  const name = e.name ?? 'Error';
  const detail = e.message ?? String(error);
  const status = e.$metadata?.httpStatusCode;
  if (notFoundNames.has(name)) {
    return permanentFailure(
      PermanentFailure.NotFound,
      `${service} ${operation}: ${detail} (${name}); check the name or id in the runbook`,
    );
  }
  if (ACCESS_DENIED.has(name) || status === 403) {
    return permanentFailure(
      PermanentFailure.AccessDenied,
      `${service} ${operation} was refused (${name}: ${detail}); check the worker's AWS credentials and their IAM permissions`,
    );
  }
  if (THROTTLED.has(name) || status === 429 || /throttl/i.test(name)) {
    return transientFailure(name, `${service} ${operation} was throttled (${name}); will retry with backoff`);
  }
  const code = connectionCode(e);
  if (code) {
    return transientFailure(
      'ConnectionFailed',
      `${service} ${operation} could not reach the endpoint (${code}); check the worker's AWS endpoint and network`,
    );
  }
  if (status !== undefined && status >= 500) {
    return transientFailure(
      name,
      `${service} ${operation} failed on the provider side (HTTP ${status} ${name}: ${detail}); will retry`,
    );
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return permanentFailure(
      PermanentFailure.InvalidState,
      `${service} ${operation} was rejected (HTTP ${status} ${name}: ${detail}); ${rejectedHint}`,
    );
  }
  return transientFailure(name, `${service} ${operation} failed (${name}: ${detail})`);
}

function connectionCode(e: AwsErrorShape): string | undefined {
  if (e.code && CONNECTION_CODES.has(e.code)) return e.code;
  for (const inner of e.errors ?? []) {
    const code = (inner as AwsErrorShape).code;
    if (code && CONNECTION_CODES.has(code)) return code;
  }
  return undefined;
}
