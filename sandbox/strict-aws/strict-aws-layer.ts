import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { classify, isQueryProtocol, type AwsService } from '../fault-proxy/classify';
import { awsErrorReply, wireProtocolOf, type AwsError } from '../fault-proxy/error-bodies';
import { createAuroraClusterRules } from './aurora-cluster-rules';
import { CallStats, type StrictOperationStats } from './call-stats';
import { CONTROL_PREFIX, handleControl, type LayerControls } from './control-api';
import { EstateModel } from './estate-model';
import { createGlobalClusterRules } from './global-clusters';
import { LagMetrics } from './lag-metrics';
import { MotoLookup } from './moto-lookup';
import { outageFor } from './outage';
import { createRdsInstanceRules } from './rds-instance-rules';
import { createRdsTagRules } from './rds-tag-rules';
import { createRoute53Rules } from './route53-rules';
import { createS3KmsRules } from './s3-kms-rules';
import type { StrictCall, StrictOutcome, StrictRule } from './strict-call';
import { applySettingsPatch, defaultStrictSettings } from './strict-settings';
import { Throttle } from './throttling';

export interface StrictAwsLayerOptions {
  /** moto, e.g. `http://127.0.0.1:45215`. */
  target: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Where the estate facts moto cannot show (promotions, global writers) survive a restart of the layer. */
  stateFile?: string;
  /** Reported by the health route, so the sandbox can tell a layer started from older code. */
  version?: string;
  log?: (line: string) => void;
}

export interface StrictAwsLayer {
  /** Use as the AWS endpoint (`aws.endpoint`, `AWS_ENDPOINT_URL`). */
  url: string;
  /** The control API's base URL (`<url>/__strict-aws`). */
  controlUrl: string;
  controls: LayerControls;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Calls whose body the layer reads before deciding: small forms and documents that name what they change. */
function needsBody(req: IncomingMessage): boolean {
  if (isQueryProtocol(req.headers)) return true;
  if (typeof req.headers['x-amz-target'] === 'string') return true;
  return req.method === 'POST' && (req.url ?? '').startsWith('/2013-04-01/');
}

/**
 * The sandbox's strict AWS layer: an HTTP endpoint in front of moto that refuses what AWS refuses and emulates
 * what moto lacks (propagation, failover in progress, Aurora Global Database switchover and failover), throttles
 * with AWS's token buckets when asked, and takes whole regions down. Everything else is forwarded to moto
 * unchanged. Each rule module cites the AWS documentation it rests on.
 *
 * Order for every AWS call: outage (a down region answers nothing else) → throttling → the operation's rule →
 * moto. Calls to moto's own `/moto-api/` pass through; a moto reset through the layer also forgets the estate
 * facts the layer keeps.
 */
export async function startStrictAwsLayer(options: StrictAwsLayerOptions): Promise<StrictAwsLayer> {
  const log = options.log ?? (() => undefined);
  const target = new URL(options.target);
  let settings = defaultStrictSettings();
  const current = () => settings;
  const model = new EstateModel(options.stateFile);
  const lookup = new MotoLookup(options.target);
  const throttle = new Throttle(current);
  const stats = new CallStats();
  const lag = new LagMetrics(options.target, log);
  lag.start(settings.lagPublishIntervalMs);
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const rules: Partial<Record<AwsService, Record<string, StrictRule>>> = {
    route53: createRoute53Rules(current, model, lookup),
    s3: createS3KmsRules(current, lookup),
    rds: {
      ...createRdsInstanceRules(current, model, lookup),
      ...createRdsTagRules(current, lookup),
      ...createAuroraClusterRules(current, model, lookup),
      ...createGlobalClusterRules(current, model, lookup),
    },
    cloudwatch: {
      GetMetricData: async (call) => lag.clampRead(call),
      GetMetricStatistics: async (call) => lag.clampRead(call),
    },
  };

  const controls: LayerControls = {
    version: options.version ?? 'dev',
    settings: () => structuredClone(settings),
    updateSettings(patch) {
      const before = settings;
      settings = applySettingsPatch(settings, patch);
      if (patch.throttling) throttle.reset();
      if (settings.lagPublishIntervalMs !== before.lagPublishIntervalMs)
        lag.start(settings.lagPublishIntervalMs);
      log(`settings: ${JSON.stringify(patch)}`);
      return structuredClone(settings);
    },
    async reset({ estate }) {
      settings = defaultStrictSettings();
      throttle.reset();
      stats.reset();
      lag.start(settings.lagPublishIntervalMs);
      model.zoneChanges.clear();
      model.changeInsyncAt.clear();
      model.clusterFailovers.clear();
      model.globalOperations.clear();
      if (estate) model.forget();
      await lag.reset({ republish: estate });
      log(`reset to strict defaults${estate ? ', estate forgotten' : ''}`);
      return structuredClone(settings);
    },
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    lag: () => lag.list(),
    setLag: (series, value) => lag.set(series, value),
    registerLagDefaults: (entries) => lag.registerDefaults(entries),
  };

  function sendError(
    req: IncomingMessage,
    res: ServerResponse,
    call: StrictCall,
    error: AwsError,
    extraErrorXml?: string,
  ): void {
    req.resume(); // an unread body (an S3 upload) must not stall the kept-alive connection
    const reply = awsErrorReply(call.protocol, error, extraErrorXml);
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  }

  function answerOutage(req: IncomingMessage, res: ServerResponse, call: StrictCall): void {
    const { mode, hangMs } = settings.outage;
    if (mode === '5xx') {
      sendError(req, res, call, {
        status: 503,
        code: 'ServiceUnavailable',
        message: 'Service is unavailable. Please try again later.',
        type: 'Receiver',
      });
      return;
    }
    req.resume();
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      req.socket.destroy();
    }, hangMs);
    timers.add(timer);
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    opStats: StrictOperationStats | undefined,
    body: Buffer | undefined,
    outcome?: Extract<StrictOutcome, { kind: 'forward' }>,
  ): void {
    if (opStats) opStats.forwarded++;
    const headers: OutgoingHttpHeaders = { ...req.headers };
    const sendBody = outcome?.body ?? body;
    if (sendBody !== undefined) {
      headers['content-length'] = String(sendBody.length);
      delete headers['transfer-encoding'];
    }
    const upstream = httpRequest(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (answer) => {
        const status = answer.statusCode ?? 502;
        const ok = status >= 200 && status < 300;
        if (ok && opStats) opStats.succeeded++;
        if (outcome?.rewrite === undefined && outcome?.after === undefined) {
          res.writeHead(status, answer.statusMessage, answer.rawHeaders);
          answer.pipe(res);
          return;
        }
        void readBody(answer).then(async (raw) => {
          let text = raw.toString('utf8');
          if (ok && outcome.rewrite) {
            try {
              text = await outcome.rewrite(text);
            } catch (error) {
              log(
                `rewrite of ${req.method} ${req.url} failed, answering moto's body: ${(error as Error).stack}`,
              );
            }
          }
          outcome.after?.(status, text);
          const out: OutgoingHttpHeaders = { ...answer.headers, 'content-length': Buffer.byteLength(text) };
          delete out['transfer-encoding'];
          res.writeHead(status, answer.statusMessage, out);
          res.end(text);
        });
      },
    );
    upstream.on('error', (error) => {
      outcome?.after?.(502, '');
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`strict AWS layer: moto at ${options.target} unreachable: ${error.message}`);
      } else res.destroy(error);
    });
    if (sendBody !== undefined) upstream.end(sendBody);
    else req.pipe(upstream);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    if (url.startsWith(`${CONTROL_PREFIX}/`)) return handleControl(req, res, controls);
    if (url.startsWith('/moto-api/')) {
      const body = await readBody(req);
      if (method === 'POST' && url.startsWith('/moto-api/reset') && !url.startsWith('/moto-api/reset-auth')) {
        model.forget();
      }
      return forward(req, res, undefined, body);
    }
    const body = needsBody(req) ? await readBody(req) : undefined;
    const form = isQueryProtocol(req.headers) ? (body?.toString('utf8') ?? '') : undefined;
    const info = classify(method, url, req.headers, form);
    const call: StrictCall = {
      info,
      region: info.region ?? 'us-east-1',
      protocol: wireProtocolOf(info.service, req.headers),
      headers: req.headers,
      body,
      params: new URLSearchParams(form ?? ''),
      now: Date.now(),
    };
    const opStats = stats.of(info.service, info.operation);
    opStats.calls++;
    opStats.callsByRegion[call.region] = (opStats.callsByRegion[call.region] ?? 0) + 1;
    const down = outageFor(call, settings);
    if (down !== undefined) {
      opStats.unavailable++;
      return answerOutage(req, res, call);
    }
    const throttled = throttle.take(call);
    if (throttled !== undefined) {
      opStats.throttled++;
      return sendError(req, res, call, throttled);
    }
    const outcome = await rules[info.service]?.[info.operation]?.(call);
    switch (outcome?.kind) {
      case 'refuse':
        opStats.refused[outcome.error.code] = (opStats.refused[outcome.error.code] ?? 0) + 1;
        log(`refused ${info.operation} in ${call.region}: ${outcome.error.code}: ${outcome.error.message}`);
        return sendError(req, res, call, outcome.error, outcome.extraErrorXml);
      case 'answer':
        if (outcome.status >= 200 && outcome.status < 300) opStats.succeeded++;
        res.writeHead(outcome.status, {
          'content-type': outcome.contentType,
          'content-length': Buffer.byteLength(outcome.body),
        });
        res.end(outcome.body);
        return;
      default:
        return forward(req, res, opStats, body, outcome);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`internal error on ${req.method} ${req.url}: ${(error as Error).stack}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`strict AWS layer failed on ${req.method} ${req.url}: ${(error as Error).message}`);
      } else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ready, failed) => {
    server.once('error', failed);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, ready);
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address}:${port}`;
  log(`strict AWS layer on ${url}, forwarding to ${options.target}`);

  return {
    url,
    controlUrl: `${url}${CONTROL_PREFIX}`,
    controls,
    close() {
      return new Promise<void>((closed) => {
        lag.close();
        lookup.close();
        for (const timer of timers) clearTimeout(timer);
        server.close(() => closed());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
    },
  };
}
