import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isAlive, runningPid, startDetached, stopDetached } from './detached-process';
import { requireFreePort } from './free-port';
import { motoEndpoint } from './moto-server';
import { REPO_ROOT, sandboxPaths } from './sandbox-paths';
import { LOOPBACK, type SandboxSettings } from './sandbox-settings';
import { waitUntil } from './wait-until';

export const STRICT_AWS_PROCESS = 'strict-aws';

/** The AWS endpoint drctl and the tests use: the strict layer in front of moto. */
export function strictAwsEndpoint(settings: SandboxSettings): string {
  return `http://${LOOPBACK}:${settings.ports.strictAws}`;
}

export function strictAwsControlUrl(settings: SandboxSettings): string {
  return `${strictAwsEndpoint(settings)}/__strict-aws`;
}

/**
 * A digest of the layer's source, passed to the process and reported by its health route: `ensureStrictAwsUp`
 * restarts a layer that runs older code (a checkout changed under a running sandbox).
 */
export function strictAwsCodeVersion(): string {
  const hash = createHash('sha256');
  const folders = ['sandbox/strict-aws', 'sandbox/fault-proxy'];
  for (const folder of folders) {
    for (const file of readdirSync(resolve(REPO_ROOT, folder))
      .filter((name) => name.endsWith('.ts'))
      .sort()) {
      hash.update(`${folder}/${file}\n`).update(readFileSync(resolve(REPO_ROOT, folder, file)));
    }
  }
  hash.update(readFileSync(resolve(REPO_ROOT, 'sandbox/aws-clients.ts')));
  return hash.digest('hex').slice(0, 16);
}

async function runningVersion(settings: SandboxSettings): Promise<string | undefined> {
  try {
    const response = await fetch(`${strictAwsControlUrl(settings)}/health`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!response.ok) return undefined;
    return ((await response.json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export async function strictAwsAnswers(settings: SandboxSettings): Promise<boolean> {
  return (await runningVersion(settings)) !== undefined;
}

/** Starts the strict AWS layer (its own process, in front of moto) unless one of the same code already answers. */
export async function ensureStrictAwsUp(
  settings: SandboxSettings,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const version = strictAwsCodeVersion();
  if (runningPid(STRICT_AWS_PROCESS) !== undefined && (await runningVersion(settings)) === version) return;
  await stopDetached(STRICT_AWS_PROCESS, 3_000);
  await requireFreePort(LOOPBACK, settings.ports.strictAws, 'the strict AWS layer');
  log(
    `strict-aws: starting on ${strictAwsEndpoint(settings)} in front of moto (log ${sandboxPaths.logFile(STRICT_AWS_PROCESS)})`,
  );
  const pid = startDetached(
    STRICT_AWS_PROCESS,
    process.execPath,
    [
      '--import',
      'tsx',
      sandboxPaths.strictAwsMain,
      '--target',
      motoEndpoint(settings),
      '--host',
      LOOPBACK,
      '--port',
      String(settings.ports.strictAws),
      '--state-file',
      sandboxPaths.strictAwsStateFile,
      '--code-version',
      version,
    ],
    { cwd: REPO_ROOT, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
  );
  await waitUntil(
    `the strict AWS layer at ${strictAwsEndpoint(settings)}`,
    async () => (await runningVersion(settings)) === version,
    {
      timeoutMs: 30_000,
      hint: `See ${sandboxPaths.logFile(STRICT_AWS_PROCESS)}.`,
      stillAlive: () => isAlive(pid),
    },
  );
}

export async function stopStrictAws(): Promise<void> {
  await stopDetached(STRICT_AWS_PROCESS, 3_000);
}
