import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, type FaultKind } from '../sandbox/fault-proxy';
import { resetStack } from '../sandbox/stack';
import { drctl, drctlEnv, startWorkerProcess, stopProcess } from '../test/integration/drctl-process';
import type { FailoverResult } from '../workflows/run-types';

/**
 * One failover by hand through the fault proxy: resets the stack, starts a worker process whose
 * `aws.endpoint` is the proxy, runs `drctl failover <runbook> --follow`, prints outcome, duration, each step's
 * attempts and what the proxy counted. Usage:
 *   npx tsx bench/fault-proxy-failover.ts [runbook=ehr-db] [rate=0.2] [seed=1] [kinds=throttle,5xx,timeout]
 * Kinds: throttle, 5xx, timeout (held, then reset: never forwarded), answer-lost (forwarded and done, then reset).
 */
async function main(): Promise<void> {
  const [runbook = 'ehr-db', rate = '0.2', seed = '1', kinds = 'throttle,5xx,timeout'] =
    process.argv.slice(2);
  const stack = await resetStack();
  const proxy = await startFaultProxy({
    target: stack.moto.endpoint,
    faultRate: 0,
    faults: kinds.split(',') as FaultKind[],
    seed: Number(seed),
  });
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as { aws: { endpoint?: string } };
  config.aws.endpoint = proxy.url;
  const file = join(mkdtempSync(join(tmpdir(), 'drctl-faults-')), 'drctl.config.json');
  writeFileSync(file, JSON.stringify(config));
  const env = { ...drctlEnv(stack, `fault-bench-${randomUUID()}`), DRCTL_CONFIG: file };
  const worker = await startWorkerProcess(env);
  try {
    proxy.setFaultRate(Number(rate));
    const started = performance.now();
    const run = await drctl(
      ['failover', runbook, '--reason', 'fault bench', '--yes', '--follow', '--output', 'json'],
      env,
    );
    const wallMs = performance.now() - started;
    proxy.setFaultRate(0);
    const stats = proxy.stats();
    let result: FailoverResult | undefined;
    try {
      result = JSON.parse(run.stdout) as FailoverResult;
    } catch {
      /* printed below */
    }
    console.log(
      `${runbook} at ${Number(rate) * 100} % faults (seed ${seed}, ${kinds}): exit ${run.code}, ${result?.status ?? run.stdout}, ${(wallMs / 1000).toFixed(1)} s`,
    );
    for (const entry of result?.timeline ?? []) {
      console.log(
        `  ${entry.stepId.padEnd(20)} ${entry.status.padEnd(10)} attempts ${entry.attempts} ${entry.durationMs ?? '?'} ms${entry.error ? ` ${entry.error.type}: ${entry.error.message}` : ''}`,
      );
    }
    console.log(
      `  proxy: forwarded ${stats.forwarded}, faulted ${stats.faulted}; effects ${JSON.stringify(stats.effects)}`,
    );
    for (const [name, s] of Object.entries(stats.operations)) {
      console.log(
        `    ${name.padEnd(28)} fwd ${s.forwarded} ok ${s.succeeded} faulted ${s.faulted} ${JSON.stringify(s.faultsByKind)}`,
      );
    }
    if (run.stderr) console.log(run.stderr);
  } finally {
    await stopProcess(worker);
    await proxy.close();
    await resetStack();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
