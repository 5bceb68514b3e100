import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** True when the request's Authorization header carries valid credentials (see createTokenCheck). */
  isAuthorized: (authorization: string | undefined) => boolean;
  /** Exact browser origins (scheme://host:port) allowed to call; every other origin is refused. */
  allowedOrigins: string[];
  /** One line per request: route, namespace, count, status. Never payloads or credentials. */
  log: (line: string) => void;
  /** Largest request body accepted. Default 16 MiB. */
  maxBodyBytes?: number;
}

const ROUTE = /^(?:\/[^/]+)?\/(encode|decode)$/;
const REALM = 'drctl codec server';

/**
 * The remote codec the Temporal Web UI and CLI call: `POST /encode` and `POST /decode` (also under a
 * `/{namespace}/` prefix, for the CLI's endpoint templating), body and answer `{"payloads": [proto-JSON]}`.
 * Every request must be authenticated; browsers only from the allowed origins (CORS with credentials).
 * `GET /` asks a browser for the token once (Basic, any user name), so the UI can then send it along.
 */
export function createCodecServer(options: CodecServerOptions): Server {
  const allowed = new Set(options.allowedOrigins);
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;

  return createServer((request, response) => {
    const origin = request.headers.origin;
    const path = new URL(request.url ?? '/', 'http://codec.invalid').pathname;
    const finish = (status: number, body: unknown, extra: Record<string, string> = {}, detail = '') => {
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        ...extra,
      };
      if (origin !== undefined && allowed.has(origin)) {
        headers['Access-Control-Allow-Origin'] = origin;
        headers['Access-Control-Allow-Credentials'] = 'true';
        headers.Vary = 'Origin';
      }
      response.writeHead(status, headers).end(body === undefined ? undefined : JSON.stringify(body));
      const namespace = request.headers['x-namespace'] ?? '-';
      options.log(
        `${request.method ?? '?'} ${path} namespace=${String(namespace)} origin=${origin ?? '-'} -> ${status}${detail}`,
      );
    };

    if (origin !== undefined && !allowed.has(origin)) {
      finish(403, {
        error: `origin ${origin} is not allowed: add it to codecServer.allowedOrigins (DRCTL_CODEC_SERVER_ORIGINS)`,
      });
      return;
    }
    if (request.method === 'OPTIONS') {
      // Preflight: answered without credentials (browsers send none), but only for an allowed origin.
      finish(204, undefined, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
        'Access-Control-Max-Age': '600',
      });
      return;
    }
    if (!options.isAuthorized(request.headers.authorization)) {
      const challenge =
        request.method === 'GET' && path === '/' ? `Basic realm="${REALM}"` : `Bearer realm="${REALM}"`;
      finish(
        401,
        { error: 'authentication required: send Authorization: Bearer <codec server token>' },
        { 'WWW-Authenticate': challenge },
      );
      request.resume();
      return;
    }
    if (request.method === 'GET' && path === '/') {
      finish(200, {
        ok: true,
        message: 'authenticated: the Temporal Web UI can now decode through this server',
      });
      return;
    }
    const route = ROUTE.exec(path)?.[1];
    if (route === undefined) {
      finish(404, { error: `no route ${path}: use POST /encode or POST /decode` });
      return;
    }
    if (request.method !== 'POST') {
      finish(405, { error: `${path} takes POST` }, { Allow: 'POST, OPTIONS' });
      return;
    }
    void handle(route, request, maxBody, options.codec, finish);
  });
}

async function handle(
  route: string,
  request: IncomingMessage,
  maxBody: number,
  codec: PayloadCodec,
  finish: (status: number, body: unknown, extra?: Record<string, string>, detail?: string) => void,
): Promise<void> {
  let payloads: unknown[];
  try {
    const body = JSON.parse(await readBody(request, maxBody)) as { payloads?: unknown };
    if (!Array.isArray(body.payloads)) throw new SyntaxError('body must be {"payloads": [...]}');
    payloads = body.payloads as unknown[];
  } catch (error) {
    const tooLarge = error instanceof BodyTooLarge;
    finish(tooLarge ? 413 : 400, { error: (error as Error).message });
    return;
  }
  try {
    const input = payloads.map(fromProtoJson);
    const output = route === 'encode' ? await codec.encode(input) : await codec.decode(input);
    finish(200, { payloads: output.map(toProtoJson) }, {}, ` payloads=${payloads.length}`);
  } catch (error) {
    finish(422, { error: `cannot ${route}: ${(error as Error).message}` });
  }
}

/** proto3 JSON of a Payload (bytes as base64), the codec-server protocol's wire form, via the generated proto code. */
function fromProtoJson(json: unknown): Payload {
  if (typeof json !== 'object' || json === null) throw new TypeError('each payload must be an object');
  return temporal.api.common.v1.Payload.fromObject(json);
}

function toProtoJson(payload: Payload): unknown {
  return temporal.api.common.v1.Payload.toObject(temporal.api.common.v1.Payload.create(payload), {
    bytes: String,
  });
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLarge(`request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
