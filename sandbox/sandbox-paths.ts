import { basename, resolve } from 'node:path';

/** The checkout's root, whether this module runs from the sources or from the prebuilt JavaScript in dist/. */
function checkoutRoot(): string {
  const parent = resolve(__dirname, '..');
  return basename(parent) === 'dist' ? resolve(parent, '..') : parent;
}

/** Where the sandbox keeps everything: one git-ignored folder at the repository root. */
export const REPO_ROOT = checkoutRoot();
export const SANDBOX_DIR = resolve(REPO_ROOT, '.sandbox');

export const sandboxPaths = {
  dir: SANDBOX_DIR,
  logs: resolve(SANDBOX_DIR, 'logs'),
  run: resolve(SANDBOX_DIR, 'run'),
  settingsFile: resolve(SANDBOX_DIR, 'settings.json'),
  lockFile: resolve(SANDBOX_DIR, 'run', 'stack.lock'),
  stackFile: resolve(SANDBOX_DIR, 'stack.json'),
  configFile: resolve(SANDBOX_DIR, 'drctl.config.json'),
  envFile: resolve(SANDBOX_DIR, 'env'),
  temporalDir: resolve(SANDBOX_DIR, 'temporal'),
  temporalDb: resolve(SANDBOX_DIR, 'temporal', 'temporal.db'),
  temporalBinary: resolve(SANDBOX_DIR, 'venv', 'bin', 'temporal'),
  motoBinary: resolve(SANDBOX_DIR, 'venv', 'bin', 'moto_server'),
  motoPython: resolve(SANDBOX_DIR, 'venv', 'bin', 'python3'),
  motoServeScript: resolve(REPO_ROOT, 'sandbox', 'moto', 'serve.py'),
  strictAwsMain: resolve(REPO_ROOT, 'sandbox', 'strict-aws', 'main.ts'),
  strictAwsStateFile: resolve(SANDBOX_DIR, 'run', 'strict-aws-estate.json'),
  pgDir: resolve(SANDBOX_DIR, 'pg'),
  unleashStartScript: resolve(REPO_ROOT, 'sandbox', 'unleash', 'start.mjs'),
  unleashPackageDir: resolve(REPO_ROOT, 'sandbox', 'unleash'),
  postgresBinDir: process.env.DRCTL_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin',
  logFile: (name: string): string => resolve(SANDBOX_DIR, 'logs', `${name}.log`),
  pidFile: (name: string): string => resolve(SANDBOX_DIR, 'run', `${name}.pid`),
  pgDataDir: (member: string): string => resolve(SANDBOX_DIR, 'pg', member),
};
