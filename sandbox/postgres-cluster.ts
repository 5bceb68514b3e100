import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { requireFreePort } from './free-port';
import { isAlive, writePidFile } from './detached-process';
import { runAsPostgresUser } from './run-command';
import { SandboxError } from './sandbox-error';
import { sandboxPaths } from './sandbox-paths';

/** One PostgreSQL cluster the sandbox owns: a data dir, the address it listens on, its log and pid names. */
export interface PostgresCluster {
  /** Used for `.sandbox/logs/<name>.log` and `.sandbox/run/<name>.pid`. */
  name: string;
  dataDir: string;
  listenAddress: string;
  port: number;
  /** Server certificate and key: the cluster then also accepts TLS (ssl=on); plain connections still work. */
  tls?: { certFile: string; keyFile: string };
}

const pgBin = (tool: string): string => join(sandboxPaths.postgresBinDir, tool);

/** Settings every sandbox cluster shares; a standby copies them from its primary through pg_basebackup. */
const SHARED_SETTINGS = `
# --- drctl sandbox ---
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
fsync = off
synchronous_commit = on
log_line_prefix = '%m [%p] %q%u@%d '
`;

const HBA_RULES = `
# --- drctl sandbox: password auth over loopback TCP, including replication ---
host all all 127.0.0.0/8 scram-sha-256
host replication all 127.0.0.0/8 scram-sha-256
`;

/** Creates the cluster with `postgres` as superuser (password `superuserPassword`); no-op when it exists. */
export async function initCluster(cluster: PostgresCluster, superuserPassword: string): Promise<boolean> {
  if (existsSync(join(cluster.dataDir, 'PG_VERSION'))) return false;
  requirePostgresTools();
  prepareOwnedDir(cluster.dataDir);
  const passwordFile = join(sandboxPaths.run, `${cluster.name}.initpw`);
  mkdirSync(sandboxPaths.run, { recursive: true });
  writeFileSync(passwordFile, `${superuserPassword}\n`, { mode: 0o600 });
  chownToPostgres(passwordFile);
  try {
    await runAsPostgresUser(pgBin('initdb'), [
      '-D',
      cluster.dataDir,
      '-U',
      'postgres',
      `--pwfile=${passwordFile}`,
      '--auth-local=peer',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
    ]);
  } finally {
    rmSync(passwordFile, { force: true });
  }
  appendFileSync(join(cluster.dataDir, 'postgresql.conf'), SHARED_SETTINGS);
  appendFileSync(join(cluster.dataDir, 'pg_hba.conf'), HBA_RULES);
  return true;
}

/**
 * Starts the cluster and waits until it accepts connections. Address and port go on the command line, so
 * they win over anything a test set with ALTER SYSTEM and survive pg_basebackup copying the config.
 */
/** Returns false when it was already running. */
export async function startCluster(cluster: PostgresCluster): Promise<boolean> {
  if (postmasterPid(cluster) !== undefined) return false;
  await requireFreePort(cluster.listenAddress, cluster.port, `PostgreSQL ${cluster.name}`);
  const logFile = sandboxPaths.logFile(cluster.name);
  mkdirSync(sandboxPaths.logs, { recursive: true });
  if (!existsSync(logFile)) writeFileSync(logFile, '');
  chownToPostgres(logFile);
  try {
    await runAsPostgresUser(pgBin('pg_ctl'), [
      '-D',
      cluster.dataDir,
      '-l',
      logFile,
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses=${cluster.listenAddress} -c port=${cluster.port}${tlsOptions(cluster)}`,
      'start',
    ]);
  } catch (error) {
    throw new SandboxError(
      'NotReady',
      `PostgreSQL ${cluster.name} did not start on ${cluster.listenAddress}:${cluster.port}: see ${logFile}. ${(error as Error).message}`,
    );
  }
  const pid = postmasterPid(cluster);
  if (pid !== undefined) writePidFile(cluster.name, pid);
  return true;
}

/**
 * TLS settings on the command line too, so each member keeps its own certificate (one naming its own address)
 * although pg_basebackup copies the primary's configuration to the standby.
 */
function tlsOptions(cluster: PostgresCluster): string {
  if (cluster.tls === undefined) return '';
  for (const file of [cluster.tls.certFile, cluster.tls.keyFile]) {
    if (!existsSync(file)) {
      throw new SandboxError(
        'MissingTool',
        `TLS file ${file} for PostgreSQL ${cluster.name} is missing: run \`npm run sandbox -- up\``,
      );
    }
    if (/['\s]/.test(file)) {
      throw new SandboxError(
        'InvalidState',
        `TLS file path ${file} holds a quote or a space, which pg_ctl -o cannot pass: move the checkout`,
      );
    }
  }
  return ` -c ssl=on -c ssl_cert_file='${cluster.tls.certFile}' -c ssl_key_file='${cluster.tls.keyFile}' -c ssl_min_protocol_version=TLSv1.2`;
}

/** Stops the cluster if it runs. `immediate` is a crash (no checkpoint), as in an outage. */
export async function stopCluster(
  cluster: PostgresCluster,
  mode: 'fast' | 'immediate' = 'fast',
): Promise<void> {
  if (postmasterPid(cluster) !== undefined) {
    await runAsPostgresUser(pgBin('pg_ctl'), ['-D', cluster.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }
  rmSync(sandboxPaths.pidFile(cluster.name), { force: true });
}

/** The postmaster's pid when the cluster runs, read from postmaster.pid (no connection needed). */
export function postmasterPid(cluster: PostgresCluster): number | undefined {
  const file = join(cluster.dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

/** `pg_isready` against the cluster's TCP address. */
export async function isAcceptingConnections(cluster: PostgresCluster): Promise<boolean> {
  try {
    await runAsPostgresUser(pgBin('pg_isready'), [
      '-q',
      '-h',
      cluster.listenAddress,
      '-p',
      String(cluster.port),
      '-t',
      '2',
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Takes a fresh base backup of `primary` into `standby` (wiping it) and configures it to stream (-R). */
export async function cloneAsStandby(
  primary: PostgresCluster,
  standby: PostgresCluster,
  superuserPassword: string,
): Promise<void> {
  requirePostgresTools();
  prepareOwnedDir(standby.dataDir, { wipe: true });
  const connection = `host=${primary.listenAddress} port=${primary.port} user=postgres password=${superuserPassword} application_name=${standby.name}`;
  await runAsPostgresUser(pgBin('pg_basebackup'), [
    '-D',
    standby.dataDir,
    '-d',
    connection,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
  ]);
}

/** Empties postgresql.auto.conf: undoes every ALTER SYSTEM (read-only switches, cut primary_conninfo, ...). */
export function clearAlterSystemSettings(cluster: PostgresCluster): void {
  const file = join(cluster.dataDir, 'postgresql.auto.conf');
  writeFileSync(
    file,
    '# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n',
  );
  chownToPostgres(file);
}

/** Makes the cluster start as a primary: a leftover standby.signal would turn it into a standby. */
export function removeStandbySignal(cluster: PostgresCluster): void {
  rmSync(join(cluster.dataDir, 'standby.signal'), { force: true });
}

function prepareOwnedDir(dir: string, options: { wipe?: boolean } = {}): void {
  if (options.wipe) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  chownToPostgres(dir);
}

let postgresIds: { uid: number; gid: number } | undefined;

/** Gives `path` to the `postgres` OS user when we are root (the sandbox then runs PostgreSQL as that user). */
export function chownToPostgres(path: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  postgresIds ??= {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
  chownSync(path, postgresIds.uid, postgresIds.gid);
}

function requirePostgresTools(): void {
  if (!existsSync(pgBin('initdb'))) {
    throw new SandboxError(
      'MissingTool',
      `PostgreSQL server tools not found in ${sandboxPaths.postgresBinDir}: run \`npm run setup\` (installs the Debian package postgresql), or set DRCTL_PG_BIN_DIR`,
    );
  }
}
