import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_DECLARATIONS } from '../common/search-attributes';
import { temporalUiArgs } from './codec-server-process';
import { requireFreePort } from './free-port';
import { isAlive, runningPid, startDetached, stopDetached } from './detached-process';
import { SandboxError } from './sandbox-error';
import { sandboxPaths } from './sandbox-paths';
import { LOOPBACK, type SandboxSettings } from './sandbox-settings';
import { waitUntil } from './wait-until';

export const TEMPORAL_PROCESS = 'temporal';
export const TEMPORAL_NAMESPACE = 'default';

/**
 * Dynamic config: search attributes usable at once after registration (fast tests); updates on; eager workflow
 * start off, as production must have it: on (the server's default), a client starting a failover on drctl's queue
 * may ask for its first workflow task and answer it itself, starting a fence follow-up as its child (README,
 * "The namespace is a trust boundary").
 */
const DYNAMIC_CONFIG = [
  'system.forceSearchAttributesCacheRefreshOnRead=true',
  'frontend.enableUpdateWorkflowExecution=true',
  'system.enableEagerWorkflowStart=false',
];

/**
 * The dev server's SQLite file in write-ahead-log mode, synced at checkpoints. With the default rollback journal
 * every history write created, synced and deleted a journal file: the server's own `persistence_latency` for
 * UpdateWorkflowExecution was 4.3 ms on this machine, 1.1 ms in WAL mode, and each step of a run pays several.
 * A crash of the machine may lose the newest transactions; a crash of the server loses nothing (SQLite WAL docs).
 */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export function temporalAddress(settings: SandboxSettings): string {
  return `${LOOPBACK}:${settings.ports.temporal}`;
}

/** The dev server's HTTP API (`drctl status` reads runs there: temporal.httpAddress). */
export function temporalHttpAddress(settings: SandboxSettings): string {
  return `${LOOPBACK}:${settings.ports.temporalHttp}`;
}

/** Starts `temporal server start-dev` (SQLite file kept between runs) unless it already answers. */
export async function ensureTemporalUp(
  settings: SandboxSettings,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const running = runningPid(TEMPORAL_PROCESS);
  if (running !== undefined && (await temporalAnswers(settings))) {
    if (hasCurrentDynamicConfig(running)) return;
    log('temporal: restarting, it runs with other dynamic config (its SQLite file is kept)');
  }
  await stopDetached(TEMPORAL_PROCESS);
  if (!existsSync(sandboxPaths.temporalBinary)) {
    throw new SandboxError(
      'MissingTool',
      `Temporal CLI not found at ${sandboxPaths.temporalBinary}: run \`npm run setup\``,
    );
  }
  await requireFreePort(LOOPBACK, settings.ports.temporal, 'Temporal');
  mkdirSync(sandboxPaths.temporalDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    ...temporalUiArgs(settings),
    '--ip',
    LOOPBACK,
    '--port',
    String(settings.ports.temporal),
    '--http-port',
    String(settings.ports.temporalHttp),
    '--metrics-port',
    String(settings.ports.temporalMetrics),
    '--db-filename',
    sandboxPaths.temporalDb,
    ...SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]),
    '--namespace',
    TEMPORAL_NAMESPACE,
    '--log-level',
    'warn',
    ...SEARCH_ATTRIBUTE_DECLARATIONS.flatMap((declaration) => ['--search-attribute', declaration]),
    ...DYNAMIC_CONFIG.flatMap((value) => ['--dynamic-config-value', value]),
  ];
  log(`temporal: starting on ${temporalAddress(settings)} (log ${sandboxPaths.logFile(TEMPORAL_PROCESS)})`);
  const pid = startDetached(TEMPORAL_PROCESS, sandboxPaths.temporalBinary, args);
  await waitUntil(`Temporal at ${temporalAddress(settings)}`, () => temporalAnswers(settings), {
    timeoutMs: 60_000,
    intervalMs: 300,
    hint: `See ${sandboxPaths.logFile(TEMPORAL_PROCESS)}.`,
    stillAlive: () => isAlive(pid),
  });
}

/**
 * Whether the running server was started with exactly the current `DYNAMIC_CONFIG` (its command line, read from
 * /proc): a sandbox started by another checkout may run with other settings. Where /proc cannot be read, assumed.
 */
function hasCurrentDynamicConfig(pid: number): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true;
  }
  const running = args.filter((_, index) => args[index - 1] === '--dynamic-config-value');
  return running.length === DYNAMIC_CONFIG.length && DYNAMIC_CONFIG.every((value) => running.includes(value));
}

/** Stops the server: SIGTERM, then SIGKILL after `graceMs` (0: a kill). */
export async function stopTemporal(graceMs?: number): Promise<void> {
  await stopDetached(TEMPORAL_PROCESS, graceMs);
}

/** A real gRPC round trip: the frontend describes the `default` namespace. */
export async function temporalAnswers(settings: SandboxSettings): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: temporalAddress(settings), connectTimeout: 2_000 });
    const response = await connection.workflowService.describeNamespace({ namespace: TEMPORAL_NAMESPACE });
    return response.namespaceInfo?.name === TEMPORAL_NAMESPACE;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}
