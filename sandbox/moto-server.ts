import { existsSync } from 'node:fs';
import { requireFreePort } from './free-port';
import { isAlive, runningPid, startDetached, stopDetached } from './detached-process';
import { SandboxError } from './sandbox-error';
import { sandboxPaths } from './sandbox-paths';
import { LOOPBACK, type SandboxSettings } from './sandbox-settings';
import { waitUntil } from './wait-until';

export const MOTO_PROCESS = 'moto';

export function motoEndpoint(settings: SandboxSettings): string {
  return `http://${LOOPBACK}:${settings.ports.moto}`;
}

/** Starts moto_server (one port for every AWS service, state in memory) unless it already answers. */
/** Starts moto unless it answers; says whether it started (empty: every AWS resource of a run before is gone). */
export async function ensureMotoUp(
  settings: SandboxSettings,
  log: (line: string) => void = () => undefined,
): Promise<'running' | 'started'> {
  if (runningPid(MOTO_PROCESS) !== undefined && (await motoAnswers(settings))) return 'running';
  await stopDetached(MOTO_PROCESS);
  if (!existsSync(sandboxPaths.motoBinary)) {
    throw new SandboxError(
      'MissingTool',
      `moto_server not found at ${sandboxPaths.motoBinary}: run \`npm run setup\``,
    );
  }
  await requireFreePort(LOOPBACK, settings.ports.moto, 'moto');
  log(`moto: starting on ${motoEndpoint(settings)} (log ${sandboxPaths.logFile(MOTO_PROCESS)})`);
  const pid = startDetached(MOTO_PROCESS, sandboxPaths.motoPython, motoServerArgs(settings.ports.moto));
  await waitUntil(`moto at ${motoEndpoint(settings)}`, () => motoAnswers(settings), {
    timeoutMs: 30_000,
    hint: `See ${sandboxPaths.logFile(MOTO_PROCESS)}.`,
    stillAlive: () => isAlive(pid),
  });
  return 'started';
}

/** Arguments for the venv's python3: moto_server through sandbox/moto/serve.py (why: see that file). */
export function motoServerArgs(port: number): string[] {
  return [sandboxPaths.motoServeScript, '-H', LOOPBACK, '-p', String(port)];
}

export async function stopMoto(): Promise<void> {
  await stopDetached(MOTO_PROCESS);
}

export async function motoAnswers(settings: SandboxSettings): Promise<boolean> {
  try {
    const response = await fetch(`${motoEndpoint(settings)}/moto-api/`, {
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** Forgets every AWS resource moto holds (POST /moto-api/reset). */
export async function resetMoto(settings: SandboxSettings): Promise<void> {
  const response = await fetch(`${motoEndpoint(settings)}/moto-api/reset`, {
    method: 'POST',
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    throw new SandboxError(
      'CommandFailed',
      `moto reset answered HTTP ${response.status}: see ${sandboxPaths.logFile(MOTO_PROCESS)}`,
    );
  }
}
