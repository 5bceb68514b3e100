import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { findFreePort } from './free-port';
import { sandboxPaths } from './sandbox-paths';

/**
 * What the first `up` chooses and every later run reuses: ports (so addresses stay stable) and secrets (the
 * databases and Unleash remember them). Deleting `.sandbox/settings.json` needs `sandbox down` and a wipe of
 * `.sandbox/pg` first, since the clusters keep the old passwords.
 */
export interface SandboxSettings {
  ports: {
    temporal: number;
    temporalHttp: number;
    temporalMetrics: number;
    moto: number;
    /** The strict AWS layer in front of moto (what drctl and the tests use as the AWS endpoint). */
    strictAws: number;
    /** Shared by the primary (127.0.0.2) and the replica (127.0.0.3). */
    postgres: number;
    unleashPostgres: number;
    unleash: number;
    /** The mTLS proxy in front of the Temporal dev server. */
    temporalTls: number;
    /** The mTLS proxy in front of the dev server's HTTP API. */
    temporalHttpTls: number;
    /** The Temporal Web UI (the dev server's). */
    temporalUi: number;
    /** `drctl codec-server`, which the Web UI decodes payloads through. */
    codecServer: number;
  };
  secrets: {
    postgresPassword: string;
    appPassword: string;
    unleashAdminSecret: string;
    unleashClientSecret: string;
    /** The bearer token of the sandbox's codec server. */
    codecServerToken: string;
  };
}

export const LOOPBACK = '127.0.0.1';
export const PRIMARY_HOST = '127.0.0.2';
export const REPLICA_HOST = '127.0.0.3';

/** Reads the stored settings, choosing and storing free ports and fresh secrets on first use. */
export async function loadOrCreateSettings(): Promise<SandboxSettings> {
  if (existsSync(sandboxPaths.settingsFile)) {
    return withPortsAddedSince(
      JSON.parse(readFileSync(sandboxPaths.settingsFile, 'utf8')) as SandboxSettings,
    );
  }
  const taken = new Set<number>();
  const next = async (alsoFreeOn: string[] = []): Promise<number> => {
    const port = await findFreePort(alsoFreeOn, taken);
    taken.add(port);
    return port;
  };
  const settings: SandboxSettings = {
    ports: {
      temporal: await next(),
      temporalHttp: await next(),
      temporalMetrics: await next(),
      moto: await next(),
      strictAws: await next(),
      postgres: await next([PRIMARY_HOST, REPLICA_HOST]),
      unleashPostgres: await next(),
      unleash: await next(),
      temporalTls: await next(),
      temporalHttpTls: await next(),
      temporalUi: await next(),
      codecServer: await next(),
    },
    secrets: {
      postgresPassword: secret(),
      appPassword: secret(),
      unleashAdminSecret: secret(),
      unleashClientSecret: secret(),
      codecServerToken: secret(),
    },
  };
  writeSettings(settings);
  return settings;
}

function writeSettings(settings: SandboxSettings): void {
  mkdirSync(sandboxPaths.dir, { recursive: true });
  writeFileSync(sandboxPaths.settingsFile, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
}

/** Ports added after the first release: a settings file from before gets a free one for each, stored once. */
const PORTS_ADDED_SINCE = [
  'temporalTls',
  'strictAws',
  'temporalUi',
  'codecServer',
  'temporalHttpTls',
] as const;

/**
 * Settings stored before a port (or the codec server's token) was added get it once, stored, so older `.sandbox`
 * folders keep working.
 */
async function withPortsAddedSince(stored: SandboxSettings): Promise<SandboxSettings> {
  const missing = PORTS_ADDED_SINCE.filter((port) => stored.ports[port] === undefined);
  if (missing.length === 0 && stored.secrets.codecServerToken) return stored;
  const taken = new Set<number>(Object.values(stored.ports));
  const ports = { ...stored.ports };
  for (const port of missing) {
    ports[port] = await findFreePort([], taken);
    taken.add(ports[port]);
  }
  const settings = {
    ...stored,
    ports,
    secrets: { ...stored.secrets, codecServerToken: stored.secrets.codecServerToken || secret() },
  };
  writeSettings(settings);
  return settings;
}

function secret(): string {
  return randomBytes(16).toString('hex');
}
