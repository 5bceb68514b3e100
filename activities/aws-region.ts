import type { ApplicationFailure } from '@temporalio/common';
import { REGION_UNREACHABLE } from '../common/failure-types';
import { transientFailure } from './failures';

/** What an AWS SDK v3 error carries that tells an unreachable Region from a refusal. */
interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  errors?: unknown[];
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const THROTTLED = /throttl|RequestLimitExceeded|TooManyRequests|SlowDown/i;

/**
 * Why a call to a Region did not get an answer — a connection refused or reset, a timeout, or a 5xx (after the
 * SDK's own retries) — or undefined when the Region answered (a refusal, throttling, not found). A Region that
 * does not answer may be down as a whole (AWS Fault Isolation Boundaries: a Region's control plane can fail
 * while others keep working), so the caller reports it instead of waiting.
 */
export function regionUnreachableReason(error: unknown): string | undefined {
  const e = (error ?? {}) as AwsErrorShape;
  const name = e.name ?? '';
  if (THROTTLED.test(name)) return undefined;
  const code = e.code ?? (e.errors ?? []).map((inner) => (inner as AwsErrorShape).code).find(Boolean);
  if (code !== undefined && CONNECTION_CODES.has(code)) return `connection failed (${code})`;
  if (TIMEOUT_NAMES.has(name)) return `timed out (${name})`;
  if (/socket hang up|ECONNRESET|ECONNREFUSED/i.test(e.message ?? ''))
    return `connection failed (${e.message})`;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return `HTTP ${status} ${name}`;
  if (e.$fault === 'server' && status === undefined) return `server fault ${name}`;
  return undefined;
}

export function regionUnreachableFailure(region: string, what: string, reason: string): ApplicationFailure {
  return transientFailure(
    REGION_UNREACHABLE,
    `${what}: region ${region} unreachable (${reason}); its APIs may be down — an unplanned runbook goes on with the surviving region`,
  );
}

export function isRegionUnreachable(error: unknown): boolean {
  return (error as { type?: string })?.type === REGION_UNREACHABLE;
}
