import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';

export interface TlsProxyOptions {
  listen: { host: string; port: number };
  /** The plain-text server behind the proxy (the Temporal dev server's gRPC port). */
  upstream: { host: string; port: number };
  certFile: string;
  keyFile: string;
  /** CA whose client certificates are accepted; a client without one is refused during the handshake. */
  clientCaFile: string;
  log: (line: string) => void;
}

/**
 * Terminates TLS with client-certificate checks in front of a plain server, the way a load balancer fronts a
 * Temporal frontend. gRPC runs over HTTP/2, and gRPC clients insist on ALPN `h2`: the proxy offers only that,
 * then copies bytes both ways (the dev server speaks HTTP/2 without TLS).
 */
export function startTlsProxy(options: TlsProxyOptions): Promise<Server> {
  const server = createServer(
    {
      cert: readFileSync(options.certFile),
      key: readFileSync(options.keyFile),
      ca: readFileSync(options.clientCaFile),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.2',
    },
    (client) => forward(client, options),
  );
  server.on('tlsClientError', (error: Error & { code?: string; reason?: string }, socket) => {
    options.log(
      `refused ${peer(socket)}: ${error.reason ?? error.message}${error.code ? ` (${error.code})` : ''}`,
    );
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', reject);
      resolvePromise(server);
    });
  });
}

function forward(client: TLSSocket, options: TlsProxyOptions): void {
  const subject = client.getPeerCertificate().subject?.CN ?? 'unknown';
  options.log(
    `accepted ${peer(client)} as client "${subject}" (${client.getProtocol() ?? 'TLS'}, ALPN ${client.alpnProtocol || 'none'})`,
  );
  const upstream = connect(options.upstream.port, options.upstream.host);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', closeBoth).on('close', closeBoth);
  upstream.on('error', (error) => {
    options.log(
      `upstream ${options.upstream.host}:${options.upstream.port} failed for ${peer(client)}: ${error.message}`,
    );
    closeBoth();
  });
  upstream.on('close', closeBoth);
  client.pipe(upstream).pipe(client);
}

function peer(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
