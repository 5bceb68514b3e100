import type { IncomingMessage, RequestOptions } from 'node:http';
import type { DrctlConfig } from '../worker/config';
import { temporalConnectionOptions } from '../worker/temporal-connection-options';

/**
 * A call of Temporal's HTTP API (the frontend's JSON mapping of the same WorkflowService the gRPC client calls:
 * `GET /api/v1/namespaces/{ns}/workflows/{id}` is DescribeWorkflowExecution). Used where loading the gRPC client
 * would cost more than the calls: `drctl status`, `plan`, `failover`, `failback`. Speaks over the same TLS as gRPC
 * (`temporal.tls*`: the server's CA, the client certificate, the server name), so it needs no other trust.
 */
export interface TemporalHttp {
  get(path: string, query?: Record<string, string | undefined>, options?: CallOptions): Promise<unknown>;
  post(path: string, body: unknown, options?: CallOptions): Promise<unknown>;
}

/** A long poll (the server holds it until news, up to ~20 s) needs more than a read's timeout. */
export interface CallOptions {
  timeoutMs?: number;
}

/** The server answered, with an error (`code` is the gRPC status the HTTP API carries, 5 = NOT_FOUND). */
export class TemporalHttpError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly grpcCode: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TemporalHttpError';
  }
}

/**
 * The server did not answer: the connection was refused, reset or timed out, or its TLS handshake failed (the HTTP
 * API's counterpart of gRPC's UNAVAILABLE). The environment's fault (exit 3), like an unreachable gRPC address.
 */
export class TemporalHttpUnreachableError extends Error {
  readonly code = 'TemporalUnreachable';

  constructor(address: string, cause: unknown) {
    super(
      `no answer from Temporal's HTTP API at ${address} (${(cause as Error)?.message ?? String(cause)}): ` +
        'check temporal.httpAddress in the config file (or TEMPORAL_HTTP_ADDRESS), that the server is up and, ' +
        'with TLS, its certificate and the CA',
    );
    this.name = 'TemporalHttpUnreachableError';
  }
}

/**
 * The HTTP API client the configuration allows, or undefined: no `temporal.httpAddress`, or an API key (the
 * HTTP API's bearer auth is not wired up here; those setups read over gRPC).
 */
export function temporalHttpFromConfig(
  temporal: DrctlConfig['temporal'],
  options: { timeoutMs: number },
): TemporalHttp | undefined {
  const httpAddress = temporal.httpAddress;
  if (httpAddress === undefined || temporal.apiKey !== undefined) return undefined;
  const connection = temporalConnectionOptions({ ...temporal, address: httpAddress });
  const tls = typeof connection.tls === 'object' ? connection.tls : undefined;
  const secure = connection.tls !== undefined && connection.tls !== false;
  const [, host = '', port = ''] = /^\[?(.*?)\]?:(\d+)$/.exec(httpAddress) ?? [];
  const base: RequestOptions & { servername?: string } = {
    host,
    port: Number(port),
    ...(tls?.serverRootCACertificate === undefined ? {} : { ca: tls.serverRootCACertificate }),
    ...(tls?.clientCertPair === undefined
      ? {}
      : { cert: tls.clientCertPair.crt, key: tls.clientCertPair.key }),
    ...(tls?.serverNameOverride === undefined ? {} : { servername: tls.serverNameOverride }),
  };
  const namespacePath = `/api/v1/namespaces/${encodeURIComponent(temporal.namespace)}`;
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    callOptions: CallOptions = {},
  ): Promise<unknown> => {
    const { request } = secure ? await import('node:https') : await import('node:http');
    const text = body === undefined ? undefined : JSON.stringify(body);
    const timeoutMs = callOptions.timeoutMs ?? options.timeoutMs;
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          ...base,
          timeout: timeoutMs,
          method,
          path: `${namespacePath}${path}`,
          headers: {
            accept: 'application/json',
            ...(text === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }),
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', (error) => reject(new TemporalHttpUnreachableError(httpAddress, error)));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => reject(new TemporalHttpUnreachableError(httpAddress, error)));
      req.end(text);
    });
    const parsed = parseJson(response.body);
    if (response.status >= 200 && response.status < 300) return parsed;
    const error = (parsed ?? {}) as { code?: number; message?: string };
    throw new TemporalHttpError(response.status, error.code, error.message ?? `HTTP ${response.status}`);
  };
  return {
    get: (path, query = {}, callOptions) => {
      const search = new URLSearchParams(
        Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ).toString();
      return call('GET', search === '' ? path : `${path}?${search}`, undefined, callOptions);
    },
    post: (path, body, callOptions) => call('POST', path, body, callOptions),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
