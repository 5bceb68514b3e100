import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ExitCode } from '../../cli/cli-error';
import { temporalHttpFromConfig, TemporalHttpError } from '../../cli/temporal-http';
import { openFailoverSession } from '../../cli/failover-session';
import { toCliError } from '../../cli/to-cli-error';
import { loadConfig } from '../../worker/config';

/**
 * The HTTP API client on a real loopback server that misbehaves as a dying or overloaded frontend does. A server
 * that does not answer is the environment's fault (exit 3, as over gRPC), not an unexpected failure (exit 1).
 */
const servers: Server[] = [];
const sockets: Socket[] = [];

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serving(handle: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handle);
  server.on('connection', (socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function httpAt(httpAddress: string) {
  const http = temporalHttpFromConfig(
    {
      address: '127.0.0.1:1',
      namespace: 'default',
      taskQueue: 'drctl',
      tls: false,
      maxConcurrentActivities: 1,
      httpAddress,
    },
    { timeoutMs: 300 },
  );
  if (http === undefined) throw new Error('an HTTP address without an API key gives an HTTP client');
  return http;
}

async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('the call answered');
    },
    (error: unknown) => error,
  );
}

test.each([
  [
    'resets the connection',
    (_request: unknown, response: { socket: Socket | null }) => response.socket?.destroy(),
  ],
  ['never answers', () => undefined],
])(
  'GIVEN a server that %s WHEN the CLI reads over HTTP THEN it reports Temporal unreachable (exit 3)',
  async (_case, handle) => {
    const address = await serving(handle as Parameters<typeof createServer>[1]);
    const error = toCliError(await failureOf(httpAt(address).get('/workflows/failover-ehr-db')));
    expect({ code: error.code, exitCode: error.exitCode }).toEqual({
      code: 'TemporalUnreachable',
      exitCode: ExitCode.Environment,
    });
    expect(error.message).toContain(`no answer from Temporal's HTTP API at ${address}`);
    expect(error.message).toContain('temporal.httpAddress');
  },
);

test('GIVEN a server that answers with an error WHEN the CLI reads over HTTP THEN the error is the server’s, with its status', async () => {
  const address = await serving((_request, response) => {
    response.writeHead(503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ code: 14, message: 'frontend is shutting down' }));
  });
  const error = await failureOf(httpAt(address).get('/workflows/failover-ehr-db'));
  expect(error).toBeInstanceOf(TemporalHttpError);
  expect(error).toMatchObject({ httpStatus: 503, grpcCode: 14, message: 'frontend is shutting down' });
});

test('GIVEN the HTTP API stops answering while a started failover is followed THEN the command says the run goes on and how to follow it (exit 3)', async () => {
  // The task queue's pollers answer (the session opens over HTTP); the history long poll then finds no server.
  const address = await serving((request, response) => {
    if (request.url?.includes('/task-queues/')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ pollers: [{ identity: 'worker@host' }] }));
    } else response.socket?.destroy();
  });
  const session = await openFailoverSession(
    loadConfig({ env: { TEMPORAL_ADDRESS: '127.0.0.1:9', TEMPORAL_HTTP_ADDRESS: address } }),
  );
  expect(session.transport).toBe('http');
  const error = toCliError(await failureOf(session.follow('failover-ehr-db', 'run-1', { live: false })));
  await session.close();
  expect({ code: error.code, exitCode: error.exitCode }).toEqual({
    code: 'TemporalUnreachable',
    exitCode: ExitCode.Environment,
  });
  expect(error.message).toContain(
    'failover-ehr-db was started and goes on without this command: follow it again with drctl status failover-ehr-db --follow',
  );
});
