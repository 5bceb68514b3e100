import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AwsService } from './classify';

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type FaultErrorKind = 'throttle' | '5xx' | 'AccessDenied' | 'NotFound';

/** One AWS error as a service sends it: HTTP status, error code, message, and who is at fault. */
export interface AwsError {
  status: number;
  code: string;
  message: string;
  type: 'Sender' | 'Receiver';
}

/** How a service puts errors on the wire. */
export type WireProtocol = 'query-xml' | 'rest-xml' | 's3-xml' | 'json';

function codeFor(
  service: AwsService,
  kind: FaultErrorKind,
  operation: string,
  serverError: 500 | 503,
): AwsError {
  switch (kind) {
    case 'throttle':
      return service === 's3'
        ? { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.', type: 'Sender' }
        : { status: 400, code: 'Throttling', message: 'Rate exceeded', type: 'Sender' };
    case '5xx':
      return serverError === 503
        ? {
            status: 503,
            code: 'ServiceUnavailable',
            message: 'Service is unavailable. Try again.',
            type: 'Receiver',
          }
        : {
            status: 500,
            code: service === 's3' ? 'InternalError' : 'InternalFailure',
            message: 'We encountered an internal error. Please try again.',
            type: 'Receiver',
          };
    case 'AccessDenied':
      return {
        status: 403,
        code: 'AccessDenied',
        message: `User: arn:aws:iam::123456789012:user/drctl-test is not authorized to perform: ${service}:${operation}`,
        type: 'Sender',
      };
    case 'NotFound':
      if (service === 'route53')
        return { status: 404, code: 'NoSuchHostedZone', message: 'No hosted zone found', type: 'Sender' };
      if (service === 'rds')
        return { status: 404, code: 'DBInstanceNotFound', message: 'DBInstance not found.', type: 'Sender' };
      return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', type: 'Sender' };
  }
}

/** The wire protocol of a call: JSON when it names its operation in `X-Amz-Target`, else by service. */
export function wireProtocolOf(service: AwsService, headers: IncomingHttpHeaders = {}): WireProtocol {
  if (typeof headers['x-amz-target'] === 'string') return 'json';
  if (service === 's3') return 's3-xml';
  if (service === 'route53') return 'rest-xml';
  return 'query-xml';
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * An AWS error in the protocol's own shape, so the SDK names it by its code: Route 53 (REST-XML) and RDS
 * (Query-XML) use `<ErrorResponse><Error><Type/><Code/><Message/></Error>`, S3 a bare `<Error>`, JSON services
 * (CloudWatch, in query-compatible mode) `{"__type", "message"}` plus the `x-amzn-query-error` header.
 * `extraErrorXml` goes inside `<Error>` (e.g. Route 53's `<Messages>` list of InvalidChangeBatch).
 */
export function awsErrorReply(protocol: WireProtocol, error: AwsError, extraErrorXml = ''): ErrorReply {
  const requestId = randomUUID();
  const { status, code, type } = error;
  const message = escapeXml(error.message);
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  let body: string;
  switch (protocol) {
    case 's3-xml':
      headers['content-type'] = 'application/xml';
      headers['x-amz-request-id'] = requestId;
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`;
      break;
    case 'rest-xml':
      headers['content-type'] = 'text/xml';
      body = `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message>${extraErrorXml}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      break;
    case 'query-xml':
      headers['content-type'] = 'text/xml';
      body = `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message>${extraErrorXml}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      break;
    case 'json':
      headers['content-type'] = 'application/x-amz-json-1.0';
      headers['x-amzn-query-error'] = `${code};${type}`;
      body = JSON.stringify({ __type: code, message: error.message });
      break;
  }
  return { status, headers, body };
}

/** A fault-proxy error (throttling, 5xx, AccessDenied, NotFound) in the service's protocol shape. */
export function errorReply(
  service: AwsService,
  kind: FaultErrorKind,
  operation: string,
  serverError: 500 | 503 = 500,
  headers: IncomingHttpHeaders = {},
): ErrorReply {
  return awsErrorReply(wireProtocolOf(service, headers), codeFor(service, kind, operation, serverError));
}
