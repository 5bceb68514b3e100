import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { StackInfo } from '../../sandbox/stack-info';

const DRCTL = resolve(__dirname, '../../bin/drctl');

/** The environment an operator gets from `source .sandbox/env`, plus a task queue of the test's own. */
export function drctlEnv(stack: StackInfo, taskQueue: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DRCTL_CONFIG: stack.configFile,
    DRCTL_TASK_QUEUE: taskQueue,
    DRCTL_OPERATOR: 'e2e-test',
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
