import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  classify,
  isMutating,
  isQueryProtocol,
  type AwsService,
  type FaultRequest,
} from './fault-proxy/classify';
import { errorReply, type FaultErrorKind } from './fault-proxy/error-bodies';

export type { FaultRequest, AwsService } from './fault-proxy/classify';

/**
 * `timeout`: the request is held and its connection reset, never forwarded. `answer-lost`: the request is forwarded
 * and takes effect, then its connection is reset instead of the answer (the client cannot tell the two apart).
 */
export type FaultKind = 'throttle' | '5xx' | 'timeout' | 'answer-lost';

export interface FaultProxyOptions {
  /** The emulator to forward to, e.g. `http://127.0.0.1:45215` (moto). */
  target: string;
  /** Share of calls (0..1) answered with a fault instead of being forwarded. */
  faultRate: number;
  /** Kinds to pick from (uniformly) for a faulted call. */
  faults: FaultKind[];
  /** Calls that always get a permanent error (checked before the random faults, counted as faulted). */
  permanent?: { match: (req: FaultRequest) => boolean; error: 'AccessDenied' | 'NotFound' };
  /**
   * Faults forced on the first `times` matching calls, before the random ones: makes "this mutating call
   * was retried" deterministic (e.g. one reset on ChangeResourceRecordSets).
   */
  forced?: ForcedFault[];
  /** PRNG seed: the same seed and the same call order give the same faults. Default 1. */
  seed?: number;
  /**
   * How long a `timeout` fault holds the request before destroying the socket (a connection reset). The
   * worker's AWS clients set no request timeout (the SDK's socket timeout is 300 s), so a reset after a short
   * hold is the network fault they can observe. Default 250 ms.
   */
  hangMs?: number;
  /** Which calls may be faulted at all. Default: every AWS call (moto's own `/moto-api/` is never faulted). */
  only?: (req: FaultRequest) => boolean;
}

export interface ForcedFault {
  match: (req: FaultRequest) => boolean;
  kind: FaultKind;
  times: number;
}

export interface OperationStats {
  service: AwsService;
  /** Calls passed to the target. */
  forwarded: number;
  /** Calls answered by the proxy instead (any kind). */
  faulted: number;
  faultsByKind: Partial<Record<FaultKind | 'AccessDenied' | 'NotFound', number>>;
  /** Forwarded calls the target answered with 2xx. */
  succeeded: number;
  /** True for calls that change state; `succeeded` then counts effects at the server boundary. */
  mutating: boolean;
}

export interface FaultProxyStats {
  forwarded: number;
  faulted: number;
  operations: Record<string, OperationStats>;
  /** Successful mutating calls per operation (`{ ChangeResourceRecordSets: 1 }`). */
  effects: Record<string, number>;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: use it as `aws.endpoint` / `AWS_ENDPOINT_URL`. */
  url: string;
  stats(): FaultProxyStats;
  setFaultRate(rate: number): void;
  /** Replaces (or, with `undefined`, removes) the permanent-error rule. */
  setPermanent(permanent: FaultProxyOptions['permanent']): void;
  /** Replaces the forced faults (each with its own remaining count). */
  setForced(forced: ForcedFault[]): void;
  /** Zeroes the counters (the PRNG continues). */
  resetStats(): void;
  close(): Promise<void>;
}

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A loopback HTTP proxy in front of an AWS emulator (moto has no fault injection). It forwards requests
 * unchanged (bodies streamed, headers and path as sent, so S3 path-style and checksums stay intact) and, on a
 * seeded share of calls, answers instead with a throttling error in the service's protocol shape, a 500/503,
 * or a reset connection. Counts per operation what was forwarded, faulted and succeeded, so a test can count
 * effects (a successful ChangeResourceRecordSets) where they reach the server.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = prng(options.seed ?? 1);
  const hangMs = options.hangMs ?? 250;
  let faultRate = checkRate(options.faultRate);
  let permanent = options.permanent;
  let forced = (options.forced ?? []).map((rule) => ({ ...rule }));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();
  let operations: Record<string, OperationStats> = {};

  const statsFor = (req: FaultRequest): OperationStats =>
    (operations[req.operation] ??= {
      service: req.service,
      forwarded: 0,
      faulted: 0,
      faultsByKind: {},
      succeeded: 0,
      mutating: isMutating(req.operation),
    });

  function pickFault(req: FaultRequest): FaultKind | FaultErrorKind | undefined {
    if (permanent?.match(req)) return permanent.error;
    const rule = forced.find((candidate) => candidate.times > 0 && candidate.match(req));
    if (rule) {
      rule.times--;
      return rule.kind;
    }
    if (options.only && !options.only(req)) return undefined;
    if (faultRate <= 0 || options.faults.length === 0) return undefined;
    if (random() >= faultRate) return undefined;
    return options.faults[Math.floor(random() * options.faults.length)];
  }

  function answerFault(
    kind: Exclude<FaultKind, 'answer-lost'> | FaultErrorKind,
    info: FaultRequest,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const s = statsFor(info);
    s.faulted++;
    s.faultsByKind[kind] = (s.faultsByKind[kind] ?? 0) + 1;
    if (kind === 'timeout') {
      req.resume();
      setTimeout(() => req.socket.destroy(), hangMs).unref();
      return;
    }
    const reply = errorReply(info.service, kind, info.operation, random() < 0.5 ? 500 : 503, info.headers);
    req.resume();
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  }

  function forward(
    info: FaultRequest,
    req: IncomingMessage,
    res: ServerResponse,
    body?: Buffer,
    loseAnswer = false,
  ): void {
    const s = statsFor(info);
    s.forwarded++;
    const upstream = httpRequest(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        const status = answer.statusCode ?? 502;
        if (status >= 200 && status < 300) s.succeeded++;
        // Counted as succeeded when the target took it (its effect happened); the client never hears so.
        if (loseAnswer) {
          s.faulted++;
          s.faultsByKind['answer-lost'] = (s.faultsByKind['answer-lost'] ?? 0) + 1;
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(status, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (loseAnswer) {
        req.socket.destroy();
        return;
      }
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: target ${options.target} unreachable: ${error.message}`);
      } else res.destroy(error);
    });
    if (body !== undefined) upstream.end(body);
    else req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const decide = (body?: Buffer) => {
      if (url.startsWith('/moto-api/')) {
        forwardRaw(req, res, body);
        return;
      }
      const info = classify(method, url, req.headers, body?.toString('utf8'));
      const fault = pickFault(info);
      if (fault === 'answer-lost') forward(info, req, res, body, true);
      else if (fault) answerFault(fault, info, req, res);
      else forward(info, req, res, body);
    };
    if (isQueryProtocol(req.headers)) {
      // Query-protocol bodies are small forms naming the operation: read them first, forward the same bytes.
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => decide(Buffer.concat(chunks)));
    } else decide();
  });

  function forwardRaw(req: IncomingMessage, res: ServerResponse, body?: Buffer): void {
    const info: FaultRequest = {
      service: 'other',
      operation: 'moto-api',
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
    };
    forward(info, req, res, body);
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ready, failed) => {
    server.once('error', failed);
    server.listen({ host: '127.0.0.1', port: 0 }, ready);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stats() {
      const copy = structuredClone(operations);
      const list = Object.values(copy);
      const effects: Record<string, number> = {};
      for (const [name, s] of Object.entries(copy))
        if (s.mutating && s.succeeded > 0) effects[name] = s.succeeded;
      return {
        forwarded: list.reduce((n, s) => n + s.forwarded, 0),
        faulted: list.reduce((n, s) => n + s.faulted, 0),
        operations: copy,
        effects,
      };
    },
    setFaultRate(rate: number) {
      faultRate = checkRate(rate);
    },
    setPermanent(rule) {
      permanent = rule;
    },
    setForced(rules) {
      forced = rules.map((rule) => ({ ...rule }));
    },
    resetStats() {
      operations = {};
    },
    close() {
      return new Promise<void>((closed) => {
        server.close(() => closed());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
    },
  };
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`faultRate must be between 0 and 1, not ${rate}`);
  return rate;
}
