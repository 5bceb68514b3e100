import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export interface DrctlRun {
  code: number;
  stdout: string;
  stderr: string;
}

const DRCTL = resolve(__dirname, '../../bin/drctl');

/** Runs bin/drctl (the prebuilt CLI, as installed) in a child Node whose environment is PATH plus `env` only. */
export function runDrctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<DrctlRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [DRCTL, ...args],
      { env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
