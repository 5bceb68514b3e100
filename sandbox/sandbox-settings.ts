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
  };
  secrets: {
    postgresPassword: string;
    appPassword: string;
    unleashAdminSecret: string;
    unleashClientSecret: string;
  };
}

export const LOOPBACK = '127.0.0.1';
export const PRIMARY_HOST = '127.0.0.2';
export const REPLICA_HOST = '127.0.0.3';

/** Reads the stored settings, choosing and storing free ports and fresh secrets on first use. */
export async function loadOrCreateSettings(): Promise<SandboxSettings> {
  if (existsSync(sandboxPaths.settingsFile)) {
    const stored = JSON.parse(readFileSync(sandboxPaths.settingsFile, 'utf8')) as SandboxSettings;
    return withPortsAddedSince(stored);
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
    },
    secrets: {
      postgresPassword: secret(),
      appPassword: secret(),
      unleashAdminSecret: secret(),
      unleashClientSecret: secret(),
    },
  };
  mkdirSync(sandboxPaths.dir, { recursive: true });
  writeFileSync(sandboxPaths.settingsFile, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  return settings;
}

/** Settings stored before a port was added get a free one for it, stored, so older `.sandbox` folders keep working. */
async function withPortsAddedSince(stored: SandboxSettings): Promise<SandboxSettings> {
  if (stored.ports.strictAws !== undefined) return stored;
  const taken = new Set<number>(Object.values(stored.ports));
  const settings = { ...stored, ports: { ...stored.ports, strictAws: await findFreePort([], taken) } };
  writeFileSync(sandboxPaths.settingsFile, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  return settings;
}

function secret(): string {
  return randomBytes(16).toString('hex');
}
