import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { StackInfo } from '../../sandbox/stack-info';
import { EXAMPLES_DIR, keyFileOf, newCatalogDir } from './operators';

export const DRCTL = resolve(__dirname, '../../bin/drctl');

/**
 * The environment an operator gets from `source .sandbox/env` (signing as alice), plus a task queue of the
 * test's own and a reviewed-catalog folder of its own (`catalogDir(env)`) next to the bundled examples.
 */
export function drctlEnv(stack: StackInfo, taskQueue: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DRCTL_CONFIG: stack.configFile,
    DRCTL_TASK_QUEUE: taskQueue,
    DRCTL_KEY_FILE: keyFileOf('alice'),
    DRCTL_CATALOG_DIRS: `${EXAMPLES_DIR}:${newCatalogDir()}`,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
}

/** Runs `drctl <args>` as the operator would and returns its exit code and output. */
export function drctl(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [DRCTL, ...args],
      { env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Runs `drctl args` until it exits 0, a few times a second for at most 10 s: an action a run accepts only once it
 * reaches a state (a drill aborted once it holds its failover). The last answer either way.
 */
export async function drctlUntilAccepted(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let answer = await drctl(args, env);
  for (let tries = 0; answer.code !== 0 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    answer = await drctl(args, env);
  }
  return answer;
}

/**
 * Runs `drctl <args>` on a pseudo-terminal (util-linux `script`), as an operator at a prompt would, with stdin
 * closed so a prompt reads end-of-input. Returns the exit code and what the terminal showed.
 */
export function drctlOnTerminal(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  const command = [process.execPath, DRCTL, ...args]
    .map((part) => `'${part.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((done) => {
    const child = execFile(
      'script',
      ['--quiet', '--return', '--command', command, '/dev/null'],
      { env },
      (error, stdout) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, output: stdout });
      },
    );
    child.stdin?.end();
  });
}

/**
 * Starts `drctl worker` as its own process; resolves once it says it is polling. `capture` receives all of its
 * output (stdout and stderr), for tests that inspect the worker's log.
 */
export function startWorkerProcess(
  env: NodeJS.ProcessEnv,
  capture?: (chunk: string) => void,
): Promise<ChildProcess> {
  const worker = spawn(process.execPath, [DRCTL, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ready, failed) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      capture?.(chunk.toString());
      output += chunk.toString();
      if (output.includes('drctl worker polling')) ready(worker);
    };
    worker.stdout.on('data', onData);
    worker.stderr.on('data', onData);
    worker.once('exit', (code) =>
      failed(new Error(`drctl worker exited with ${code} before polling:\n${output}`)),
    );
  });
}

export async function stopProcess(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** The test's own folder of the worker's reviewed catalog. */
export function catalogDir(env: NodeJS.ProcessEnv): string {
  const dir = env.DRCTL_CATALOG_DIRS?.split(':')[1];
  if (!dir) throw new Error('this env has no catalog folder of its own: build it with drctlEnv');
  return dir;
}

/** The same environment, signing as another demo operator. */
export function asOperator(env: NodeJS.ProcessEnv, name: Parameters<typeof keyFileOf>[0]): NodeJS.ProcessEnv {
  return { ...env, DRCTL_KEY_FILE: keyFileOf(name) };
}
