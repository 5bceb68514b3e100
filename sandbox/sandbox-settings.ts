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
    /** Shared by the primary (127.0.0.2) and the replica (127.0.0.3). */
    postgres: number;
    unleashPostgres: number;
    unleash: number;
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
    return completeSettings(JSON.parse(readFileSync(sandboxPaths.settingsFile, 'utf8')) as SandboxSettings);
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
      postgres: await next([PRIMARY_HOST, REPLICA_HOST]),
      unleashPostgres: await next(),
      unleash: await next(),
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
  saveSettings(settings);
  return settings;
}

/** Settings written before the Web UI and the codec server existed get their ports and token once. */
async function completeSettings(settings: SandboxSettings): Promise<SandboxSettings> {
  if (settings.ports.temporalUi && settings.ports.codecServer && settings.secrets.codecServerToken)
    return settings;
  const taken = new Set<number>(Object.values(settings.ports));
  for (const name of ['temporalUi', 'codecServer'] as const) {
    if (!settings.ports[name]) {
      settings.ports[name] = await findFreePort([], taken);
      taken.add(settings.ports[name]);
    }
  }
  settings.secrets.codecServerToken ||= secret();
  saveSettings(settings);
  return settings;
}

function saveSettings(settings: SandboxSettings): void {
  mkdirSync(sandboxPaths.dir, { recursive: true });
  writeFileSync(sandboxPaths.settingsFile, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
}

function secret(): string {
  return randomBytes(16).toString('hex');
}
