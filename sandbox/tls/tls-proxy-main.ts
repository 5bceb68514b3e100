import { parseArgs } from 'node:util';
import { startTlsProxy } from './tls-proxy';

/**
 * The sandbox's TLS proxy as its own process (started detached by temporal-tls-proxy.ts):
 *   tls-proxy-main.ts --listen 127.0.0.1:7443 --upstream 127.0.0.1:7233 --cert f --key f --client-ca f
 */
const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    upstream: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'client-ca': { type: 'string' },
  },
});

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') {
    process.stderr.write(`tls-proxy: --${name} is required (see sandbox/tls/temporal-tls-proxy.ts)\n`);
    process.exit(2);
  }
  return value;
}

function hostPort(name: 'listen' | 'upstream'): { host: string; port: number } {
  const value = required(name);
  const match = /^(.+):(\d+)$/.exec(value);
  if (!match) {
    process.stderr.write(`tls-proxy: --${name} must be host:port, got "${value}"\n`);
    process.exit(2);
  }
  return { host: match[1] ?? '', port: Number(match[2]) };
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
startTlsProxy({
  listen: hostPort('listen'),
  upstream: hostPort('upstream'),
  certFile: required('cert'),
  keyFile: required('key'),
  clientCaFile: required('client-ca'),
  log,
}).then(
  () => {
    log(`listening on ${values.listen}, forwarding to ${values.upstream}; client certificates required`);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      // Open gRPC streams (workers' long polls) would hold a graceful close for minutes: clients reconnect.
      process.on(signal, () => process.exit(0));
    }
  },
  (error: unknown) => {
    process.stderr.write(`tls-proxy: cannot listen on ${values.listen}: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
