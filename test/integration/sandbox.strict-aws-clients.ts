import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import type { StackInfo } from '../../sandbox/stack-info';
import { strictAwsControl, type StrictAwsControl } from '../../sandbox/strict-aws-client';

/** What a test checks of an AWS error: the wire code, the SDK's name for it, the HTTP status, retries. */
export interface CaughtAwsError {
  code: string | undefined;
  name: string;
  status: number | undefined;
  message: string;
  attempts: number | undefined;
  /**
   * The connection was reset (Node's ECONNRESET, "socket hang up"). Under Jest the SDK sees Node's errors from
   * another realm and wraps them ("AWS SDK error wrapper for TimeoutError: socket hang up"), losing `code`, so the
   * message is read too.
   */
  connectionReset: boolean;
}

/** Runs `call`, which must fail, and returns what the error says; a success fails the test. */
export async function awsError(call: Promise<unknown>): Promise<CaughtAwsError> {
  try {
    await call;
  } catch (error) {
    const e = error as {
      Code?: string;
      name: string;
      message: string;
      code?: string;
      $metadata?: { httpStatusCode?: number; attempts?: number };
      $response?: { statusCode?: number };
    };
    return {
      code: e.Code ?? (e.name === 'Error' ? undefined : e.name),
      name: e.name,
      status: e.$metadata?.httpStatusCode ?? e.$response?.statusCode,
      message: e.message,
      attempts: e.$metadata?.attempts,
      connectionReset: e.code === 'ECONNRESET' || /socket hang up|ECONNRESET/.test(e.message),
    };
  }
  throw new Error('the AWS call succeeded, but the strict layer should have refused it');
}

/**
 * Real AWS SDK v3 clients aimed at the stack's AWS endpoint (the strict layer), one per region, plus the layer's
 * control API. `maxAttempts` 1 unless a test is about the SDK's retries, so a refusal is seen as sent.
 */
export function strictAwsFixture(stack: StackInfo, options: { maxAttempts?: number } = {}) {
  const made: Array<{ destroy(): void }> = [];
  const common = {
    endpoint: stack.moto.endpoint,
    credentials: MOTO_CREDENTIALS,
    maxAttempts: options.maxAttempts ?? 1,
  };
  const keep = <T extends { destroy(): void }>(client: T): T => {
    made.push(client);
    return client;
  };
  const control: StrictAwsControl = strictAwsControl(stack.moto.controlUrl);
  return {
    control,
    rds: (region: string, maxAttempts?: number) =>
      keep(new RDSClient({ ...common, region, ...(maxAttempts ? { maxAttempts } : {}) })),
    route53: (maxAttempts?: number) =>
      keep(new Route53Client({ ...common, region: 'us-east-1', ...(maxAttempts ? { maxAttempts } : {}) })),
    cloudwatch: (region: string) => keep(new CloudWatchClient({ ...common, region })),
    s3: (region: string) => keep(new S3Client({ ...common, region, forcePathStyle: true })),
    /** The same clients aimed at moto itself, behind the layer. */
    rawRds: (region: string) => keep(new RDSClient({ ...common, endpoint: stack.moto.rawEndpoint, region })),
    rawCloudwatch: (region: string) =>
      keep(new CloudWatchClient({ ...common, endpoint: stack.moto.rawEndpoint, region })),
    close: () => made.forEach((client) => client.destroy()),
  };
}

/** Polls `read` until `done` holds (or `timeoutMs` passes, then fails with the last value). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await read();
  }
  return last;
}
