import { randomUUID } from 'node:crypto';
import type { AwsService } from './classify';

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type FaultErrorKind = 'throttle' | '5xx' | 'AccessDenied' | 'NotFound';

interface ErrorCode {
  status: number;
  code: string;
  message: string;
  type: 'Sender' | 'Receiver';
}

function codeFor(
  service: AwsService,
  kind: FaultErrorKind,
  operation: string,
  serverError: 500 | 503,
): ErrorCode {
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

/**
 * An AWS error in the service's own protocol shape: Route 53 (REST-XML) and RDS (Query-XML) use
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error>`, S3 a bare `<Error><Code/><Message/>`.
 */
export function errorReply(
  service: AwsService,
  kind: FaultErrorKind,
  operation: string,
  serverError: 500 | 503 = 500,
): ErrorReply {
  const { status, code, message, type } = codeFor(service, kind, operation, serverError);
  const requestId = randomUUID();
  const body =
    service === 's3'
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`
      : service === 'route53'
        ? `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
        : `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return {
    status,
    headers: {
      'content-type': service === 'rds' ? 'text/xml' : 'application/xml',
      'x-amzn-requestid': requestId,
      ...(service === 's3' ? { 'x-amz-request-id': requestId } : {}),
    },
    body,
  };
}
