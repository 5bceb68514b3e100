import { resolve } from 'node:path';
import { MOTO_CREDENTIALS } from './aws-clients';
import { isAlive, runningPid, startDetached, stopDetached } from './detached-process';
import { requireFreePort } from './free-port';
import { REPO_ROOT, sandboxPaths } from './sandbox-paths';
import { LOOPBACK, type SandboxSettings } from './sandbox-settings';
import { waitUntil } from './wait-until';

export const CODEC_SERVER_PROCESS = 'codec-server';

export function codecServerUrl(settings: SandboxSettings): string {
  return `http://${LOOPBACK}:${settings.ports.codecServer}`;
}

export function temporalUiUrl(settings: SandboxSettings): string {
  return `http://${LOOPBACK}:${settings.ports.temporalUi}`;
}

/** The Web UI's origin as a browser names it, by address or by `localhost`. */
export function temporalUiOrigins(settings: SandboxSettings): string[] {
  return [temporalUiUrl(settings), `http://localhost:${settings.ports.temporalUi}`];
}

/** The dev server's Web UI on its own port, decoding through the sandbox's codec server; no news fetched. */
export function temporalUiArgs(settings: SandboxSettings): string[] {
  return [
    '--ui-ip',
    LOOPBACK,
    '--ui-port',
    String(settings.ports.temporalUi),
    '--ui-codec-endpoint',
    codecServerUrl(settings),
    '--ui-disable-news-fetch',
  ];
}

/**
 * Runs `drctl codec-server` with the sandbox's config file (codec, token from Secrets Manager, the UI's origins)
 * unless it already answers. Needs moto seeded and the config file written first.
 */
export async function ensureCodecServerUp(
  settings: SandboxSettings,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  if (runningPid(CODEC_SERVER_PROCESS) !== undefined && (await codecServerAnswers(settings))) return;
  await stopDetached(CODEC_SERVER_PROCESS);
  await requireFreePort(LOOPBACK, settings.ports.codecServer, 'codec server');
  log(
    `codec-server: starting on ${codecServerUrl(settings)} (log ${sandboxPaths.logFile(CODEC_SERVER_PROCESS)})`,
  );
  const pid = startDetached(
    CODEC_SERVER_PROCESS,
    process.execPath,
    [resolve(REPO_ROOT, 'bin', 'drctl'), 'codec-server'],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DRCTL_CONFIG: sandboxPaths.configFile,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      },
      cwd: REPO_ROOT,
    },
  );
  await waitUntil(`codec server at ${codecServerUrl(settings)}`, () => codecServerAnswers(settings), {
    timeoutMs: 30_000,
    intervalMs: 200,
    hint: `See ${sandboxPaths.logFile(CODEC_SERVER_PROCESS)}.`,
    stillAlive: () => isAlive(pid),
  });
}

export async function stopCodecServer(): Promise<void> {
  await stopDetached(CODEC_SERVER_PROCESS);
}

/** Up when it answers an anonymous request with 401: it is there, and it refuses anonymous callers. */
export async function codecServerAnswers(settings: SandboxSettings): Promise<boolean> {
  try {
    const response = await fetch(`${codecServerUrl(settings)}/`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 401;
  } catch {
    return false;
  }
}
