import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a held request looked like. */
export interface HeldRequest {
  method: string;
  url: string;
}

/**
 * A loopback HTTP proxy in front of a real server (moto, Unleash) that can hold one matching request *after*
 * the server has answered it: the effect has happened at the server, but the caller never hears back. A test
 * kills the worker then, to reproduce a crash between an effect and its record.
 */
export interface HoldingProxy {
  url: string;
  /** Holds the next request `match` accepts; resolves once the server has answered it (the answer is withheld). */
  holdNext(match: (held: HeldRequest) => boolean): Promise<HeldRequest>;
  close(): Promise<void>;
}

export async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const upstream = new URL(target);
  let armed: { match: (held: HeldRequest) => boolean; onHeld: (held: HeldRequest) => void } | undefined;
  const withheld = new Set<ServerResponse>();

  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const held = { method: incoming.method ?? 'GET', url: incoming.url ?? '/' };
      const hold = armed?.match(held) ? armed : undefined;
      if (hold) armed = undefined;
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: held.method,
          path: held.url,
          headers: { ...incoming.headers, host: upstream.host },
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            if (hold) {
              withheld.add(outgoing);
              hold.onHeld(held);
              return;
            }
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(Buffer.concat(body));
          });
        },
      );
      forwarded.on('error', (error) => {
        outgoing.writeHead(502);
        outgoing.end(error.message);
      });
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    holdNext: (match) => new Promise((onHeld) => (armed = { match, onHeld })),
    close: async () => {
      for (const response of withheld) response.destroy();
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    },
  };
}
