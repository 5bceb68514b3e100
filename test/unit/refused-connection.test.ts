import { createServer, type Server } from 'node:net';
import { REFUSED_SPACING_MS, REFUSED_TRIES, refusedConnection } from '../../cli/refused-connection';

/** A loopback port nothing listens on: one the kernel gave a server that has since closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  await new Promise((closed) => server.close(closed));
  return port;
}

/** 'pending' when `promise` has not settled after the probe's tries and a margin. */
async function settledWithinTries(promise: Promise<string>): Promise<string> {
  const span = REFUSED_TRIES * REFUSED_SPACING_MS + 500;
  return Promise.race([promise, new Promise<string>((later) => setTimeout(() => later('pending'), span))]);
}

describe('refusedConnection: the CLI says at once that nothing listens at the Temporal address', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('GIVEN a loopback port nothing listens on WHEN probed THEN every try is refused and it says so', async () => {
    const port = await closedPort();
    const probe = new AbortController();

    const answer = await settledWithinTries(refusedConnection(`127.0.0.1:${port}`, probe.signal, {}));

    expect(answer).toBe(
      `ECONNREFUSED: nothing accepts connections at 127.0.0.1:${port}, tried ${REFUSED_TRIES} times ${REFUSED_SPACING_MS} ms apart`,
    );
  });

  it('GIVEN a server listening WHEN probed THEN it stays pending (gRPC decides) and accepted one connection', async () => {
    let accepted = 0;
    server = createServer((socket) => {
      accepted += 1;
      socket.destroy();
    });
    await new Promise<void>((listening) => server?.listen(0, '127.0.0.1', listening));
    const { port } = server.address() as { port: number };
    const probe = new AbortController();

    const answer = await settledWithinTries(refusedConnection(`127.0.0.1:${port}`, probe.signal, {}));
    probe.abort();

    expect(answer).toBe('pending');
    expect(accepted).toBe(1);
  });

  it('GIVEN a proxy in the environment WHEN probed THEN a refused direct connection says nothing: it stays pending', async () => {
    const port = await closedPort();
    const probe = new AbortController();

    const answer = await settledWithinTries(
      refusedConnection(`127.0.0.1:${port}`, probe.signal, { HTTPS_PROXY: 'http://127.0.0.1:3128' }),
    );

    expect(answer).toBe('pending');
  });

  it('GIVEN the probe stopped after its first refusal WHEN the spacing passes THEN it tries no more', async () => {
    const port = await closedPort();
    const probe = new AbortController();
    const answer = refusedConnection(`127.0.0.1:${port}`, probe.signal, {});
    setTimeout(() => probe.abort(), REFUSED_SPACING_MS / 2);

    expect(await settledWithinTries(answer)).toBe('pending');
  });
});
