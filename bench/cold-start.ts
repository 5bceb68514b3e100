import { execFile } from 'node:child_process';

/**
 * Wall times of `runs` fresh processes of one command, each run to its exit, after one untimed run (so the
 * first figure is not a file-cache miss). A non-zero exit fails the measurement: a failing command is fast for
 * the wrong reason.
 */
export async function coldStarts(
  binary: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  runs: number,
): Promise<number[]> {
  const once = () =>
    new Promise<number>((done, failed) => {
      const started = performance.now();
      execFile(binary, [...args], { env }, (error, _stdout, stderr) =>
        error
          ? failed(new Error(`${[binary, ...args].join(' ')} failed: ${stderr || error.message}`))
          : done(performance.now() - started),
      );
    });
  await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  return times;
}
