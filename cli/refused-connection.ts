import { connect } from 'node:net';

/**
 * A refusal is taken as final after this many tries, this far apart (2 s): a frontend that is starting gets that
 * long to listen; one that takes longer the operator retries, told why, rather than waiting out gRPC's 8 s.
 */
export const REFUSED_TRIES = 5;
export const REFUSED_SPACING_MS = 500;
/** Answers that say, at once, that nothing listens there (a timeout says nothing: gRPC's deadline decides it). */
const REFUSALS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);
/** grpc-js connects through these proxies when set; a direct connection then says nothing about the server. */
const PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy'];

/**
 * Resolves with a sentence when every try to open a TCP connection to `address` (`host:port`, `[v6]:port`) is
 * refused, so the CLI says at once that nothing listens there instead of waiting out gRPC's connect deadline (8 s,
 * retrying a refused port with backoff). Stays pending when a try connects or fails otherwise, when `address` is
 * not host:port, or when a proxy is configured. Runs beside the gRPC connect, so a reachable server costs nothing;
 * `signal` stops it.
 */
export function refusedConnection(
  address: string,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const target = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  const proxied = PROXY_VARIABLES.some((name) => env[name] || env[name.toUpperCase()]);
  if (target === null || proxied) return new Promise(() => undefined);
  const [, host, port] = target as unknown as [string, string, string];
  return new Promise((refused) => {
    const tryOnce = (tried: number) => {
      if (signal.aborted) return;
      const socket = connect({ host, port: Number(port) });
      const stop = () => socket.destroy();
      signal.addEventListener('abort', stop, { once: true });
      socket.once('connect', () => {
        signal.removeEventListener('abort', stop);
        socket.destroy();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        signal.removeEventListener('abort', stop);
        if (!REFUSALS.has(error.code ?? '')) return;
        if (tried + 1 < REFUSED_TRIES) {
          setTimeout(() => tryOnce(tried + 1), REFUSED_SPACING_MS).unref();
          return;
        }
        const what =
          error.code === 'ECONNREFUSED'
            ? `nothing accepts connections at ${address}`
            : `no network route to ${address} (check the network, VPN or address)`;
        refused(`${error.code}: ${what}, tried ${REFUSED_TRIES} times ${REFUSED_SPACING_MS} ms apart`);
      });
    };
    tryOnce(0);
  });
}
