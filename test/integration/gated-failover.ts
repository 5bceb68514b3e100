import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ehrDb from '../../runbooks/examples/ehr-db';
import type { FailoverResult } from '../../workflows/run-types';
import { catalogDir, drctl } from './drctl-process';

/**
 * Starts a failover of a copy of ehr-db (`ehr-db-gated`, in the env's reviewed catalog) that waits at an approval
 * gate `go-ahead` right after pre-flight, nothing changed yet; resolves once the run waits there (read with
 * `statusEnv`), so the run is certainly running. Returns the run's id and the runbook file, to start it again.
 */
export async function startGatedFailover(
  env: NodeJS.ProcessEnv,
  reason: string,
  statusEnv: NodeJS.ProcessEnv = env,
): Promise<{ workflowId: string; file: string }> {
  const steps = [...ehrDb.steps];
  steps.splice(1, 0, { id: 'go-ahead', kind: 'approval' } as (typeof steps)[number]);
  const file = join(catalogDir(env), 'ehr-db-gated.json');
  writeFileSync(file, JSON.stringify({ ...ehrDb, id: 'ehr-db-gated', steps }));

  const first = await drctl(['failover', file, '--reason', reason, '--yes', '--output', 'json'], env);
  expect(first.code).toBe(0);
  const { workflowId } = JSON.parse(first.stdout) as { workflowId: string };
  for (;;) {
    const status = JSON.parse(
      (await drctl(['status', workflowId, '--output', 'json'], statusEnv)).stdout,
    ) as FailoverResult;
    if (status.awaiting?.length) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { workflowId, file };
}

/**
 * While the gated run waits, a second start of the same runbook (sent with `startEnv`) is refused with exit 4
 * (AlreadyRunning, naming the open run); then the run is aborted without rollback and ends aborted.
 */
export async function expectSecondStartRefused(
  env: NodeJS.ProcessEnv,
  gated: { workflowId: string; file: string },
  startEnv: NodeJS.ProcessEnv = env,
): Promise<void> {
  const again = await drctl(
    ['failover', gated.file, '--reason', 'a second start', '--yes', '--output', 'json'],
    startEnv,
  );
  expect(again.code).toBe(4);
  expect(JSON.parse(again.stdout).error).toMatchObject({
    code: 'AlreadyRunning',
    message: expect.stringContaining(gated.workflowId),
  });
  expect((await drctl(['abort', gated.workflowId, '--reason', 'test done', '--no-rollback'], env)).code).toBe(
    0,
  );
  const ended = JSON.parse(
    (await drctl(['status', gated.workflowId, '--follow', '--output', 'json'], env)).stdout,
  ) as FailoverResult;
  expect(ended.status).toBe('aborted');
}
