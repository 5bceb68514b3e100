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
