import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { readEvacuation, startEvacuation } from '../cli/evacuation-runs';
import { loadSigner } from '../cli/operator-signer';
import { findEvacuation } from '../evacuations/catalog';
import type { EvacuationProgress } from '../evacuations/evacuation-types';
import type { FailoverResult, TimelineEntry } from '../workflows/run-types';
import { formatMs } from '../runbooks/duration';
import { median } from './figures';
import { cpuShareSince, describeCpuShare, sampleCpu, type CpuShare } from './process-cpu';
import { createSandboxAwsClients } from '../sandbox/aws-clients';
import { operatorPaths } from '../sandbox/operator-seed';
import { ensureStackUp } from '../sandbox/stack';
import { strictAwsControl, type StrictStats } from '../sandbox/strict-aws-client';
import { dataConverterOptions } from '../security/codec/data-converter';
import { loadConfig } from '../worker/config';
import { runWorker } from '../worker/run-worker';
import { keptBurst } from '../activities/aws-pacing/aws-pacer';
import {
  ESTATE_PRIMARY_REGION as PRIMARY_REGION,
  ESTATE_REPLICA_REGION as REPLICA_REGION,
  publishReplicaLag,
  removeEstate,
  seedEstate,
  writeEstateEvacuation,
  type EstateService,
} from '../sandbox/rds-estate';

/**
 * One region evacuation at fleet scale on the local stack, under the strict AWS layer's emulated account limits
 * (Route 53: burst 50, 10/s; RDS: burst 300, 12/s per region; CloudWatch GetMetricData 50/s per region). Seeds
 * RDS primaries with cross-region read replicas and hosted zones of CNAME records behind the layer (straight into
 * moto), writes one runbook per service (fence its primaries, promote its replicas, point its zone's records at
 * them) into a reviewed catalog of its own, and runs them as one evacuation (one wave, 20 services at once, as
 * AWS ARC Region switch runs 20 in parallel). Prints achieved time ÷ the rate-limit floor, failed services,
 * throttling failures, effects counted at the layer, how the time grows with records and databases, and where the
 * machine's CPU went. Not a test: it prints figures.
 *
 * Usage: npx tsx bench/fleet.ts [--sizes 10:1,200:20,2000:200]   (records:databases; the last is the headline)
 * With FLEET_TIMELINE_FILE=<path>, every service's step timeline is appended there too, one JSON line per service.
 */
const RECORDS_PER_SERVICE_ZONE_MAX = 100;
const DATABASES_PER_SERVICE_MAX = 10;
const LIMITS = {
  route53: { burst: 50, perSecond: 10 },
  rds: { burst: 300, perSecond: 12 },
  cloudwatchGetMetricData: { burst: 50, perSecond: 50 },
};

interface Size {
  records: number;
  databases: number;
}

interface Figures {
  size: Size;
  services: number;
  wallMs: number;
  floorMs: number;
  floor: Floor;
  /** The Route 53 PENDING the layer emulates after the last change batch (`route53PropagationMs`). */
  propagationMs: number;
  /** How long an RDS reboot lasts at the layer (`rdsRebootMs`): the last fence's is on the critical path. */
  rebootMs: number;
  /** How long an RDS modification lasts at the layer (`rdsModifyMs`): the last fence's swap is too. */
  modifyMs: number;
  result: EvacuationProgress;
  stats: StrictStats;
  expectedEffects: Record<string, number>;
  timeline: KindSpan[];
  /** Where the machine's CPU went while the evacuation ran. */
  cpu: CpuShare;
  edges: WallEdges;
}

/** The wall time outside the services' own runs. */
interface WallEdges {
  /** From the bench asking to start to the evacuation workflow's start (signing, authority, scheduling). */
  startMs: number;
  /** From the evacuation's start to its first service's start. */
  firstServiceMs: number;
  /** From the last service's end to the evacuation's end. */
  closeMs: number;
  /** From the evacuation's end to the bench seeing it. */
  seenMs: number;
}

function edgesOf(result: EvacuationProgress, startedEpochMs: number, seenEpochMs: number): WallEdges {
  const at = (iso: string | undefined) => (iso === undefined ? Number.NaN : Date.parse(iso));
  const started = at(result.startedAt);
  const ended = at(result.endedAt);
  const serviceStarts = result.services.map((s) => at(s.startedAt)).filter((t) => !Number.isNaN(t));
  const serviceEnds = result.services.map((s) => at(s.endedAt)).filter((t) => !Number.isNaN(t));
  return {
    startMs: started - startedEpochMs,
    firstServiceMs: Math.min(...serviceStarts) - started,
    closeMs: ended - Math.max(...serviceEnds),
    seenMs: seenEpochMs - ended,
  };
}

/** When the steps of one kind ran, over every service, from the evacuation's start. */
interface KindSpan {
  kind: string;
  steps: number;
  firstStartMs: number;
  lastEndMs: number;
  /** Median of the steps' own durations. */
  medianMs: number;
  /** Attempts beyond the first, over all steps of the kind (each a retry after a failure or a timeout). */
  retries: number;
  /** Pre-flights that used the checks their failover made while held (`workflows/held-reads.ts`). */
  readWhileHeld: number;
}

function sizesFromArgs(): Size[] {
  const at = process.argv.indexOf('--sizes');
  const spec = at >= 0 ? process.argv[at + 1] : '10:1,200:20,2000:200';
  return (spec ?? '').split(',').map((pair) => {
    const [records, databases] = pair.split(':').map(Number);
    if (!Number.isInteger(records) || !Number.isInteger(databases) || records! < 1 || databases! < 1)
      throw new Error(`--sizes: "${pair}" is not records:databases (e.g. 2000:200)`);
    return { records: records!, databases: databases! };
  });
}

async function main(): Promise<void> {
  const sizes = sizesFromArgs();
  const stack = await ensureStackUp();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  const control = strictAwsControl(stack.moto.controlUrl);
  const raw = createSandboxAwsClients(stack.moto.rawEndpoint);
  const catalog = mkdtempSync(join(tmpdir(), 'drctl-fleet-catalog-'));
  const evacuations = mkdtempSync(join(tmpdir(), 'drctl-fleet-evacuations-'));
  const taskQueue = `fleet-${randomUUID()}`;
  const config = loadConfig({
    file: stack.configFile,
    overrides: {
      temporal: { taskQueue },
      access: {
        catalogDirs: [resolve(__dirname, '../runbooks/examples'), catalog],
        evacuationDirs: [evacuations],
      },
    },
  });
  const stopWorker = new AbortController();
  await new Promise<void>((onReady) => void runWorker(config, { signal: stopWorker.signal, onReady }));
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({
    connection,
    namespace: stack.temporal.namespace,
    ...dataConverterOptions(config).options,
  });
  const signer = loadSigner(operatorPaths.keyFile('alice'));
  const all: Figures[] = [];
  try {
    for (const [index, size] of sizes.entries()) {
      const tag = `f${index}${Date.now().toString(36)}`;
      const estate = await seed(raw, tag, size);
      const evacuationId = writeEstateEvacuation({ catalog, evacuations }, tag, estate.services, {
        owner: 'fleet-bench',
        title: `Fleet benchmark: ${size.records} records, ${size.databases} databases`,
        // As AWS ARC Region switch runs 20 blocks in parallel.
        concurrency: 20,
      });
      const loaded = findEvacuation(evacuationId, [catalog], [evacuations]);
      if (loaded === undefined) throw new Error(`the bench's evacuation ${evacuationId} did not load`);
      await control.reset();
      await publishReplicaLag(control, estate.services);
      await control.throttling({ enabled: true, ...LIMITS });
      await control.resetStats();
      const started = performance.now();
      const startedEpochMs = Date.now();
      const cpuBefore = sampleCpu();
      const workflowId = await startEvacuation(client, taskQueue, loaded, {
        reason: `fleet benchmark ${size.records} records, ${size.databases} databases`,
        signer,
        now: new Date(),
      });
      const { progress: result, seenAt } = await waitForEnd(client, workflowId);
      const wallMs = seenAt - started;
      const seenEpochMs = startedEpochMs + wallMs;
      const cpu = cpuShareSince(cpuBefore);
      const stats = await control.stats();
      const { route53PropagationMs, rdsRebootMs, rdsModifyMs } = await control.settings();
      const floor = rateLimitFloor(estate);
      all.push({
        size,
        services: estate.services.length,
        wallMs,
        floorMs: Math.max(floor.route53, floor.rds),
        floor,
        propagationMs: route53PropagationMs,
        rebootMs: rdsRebootMs,
        modifyMs: rdsModifyMs,
        result,
        stats,
        expectedEffects: {
          ModifyDBInstance: size.databases,
          RebootDBInstance: size.databases,
          PromoteReadReplica: size.databases,
          // No fence marker on the instances: the run's history records the groups each fence replaces.
          AddTagsToResource: 0,
          ChangeResourceRecordSets: estate.services.length,
        },
        timeline: await timelineOf(client, result),
        cpu,
        edges: edgesOf(result, startedEpochMs, seenEpochMs),
      });
      console.log(
        `size ${size.records} records / ${size.databases} databases: ${result.status} in ${formatMs(wallMs)}`,
      );
      await control.reset();
      await removeEstate(raw, estate.services);
    }
  } finally {
    await control.reset().catch(() => undefined);
    await connection.close();
    stopWorker.abort();
    raw.route53.destroy();
  }
  print(all);
}

interface Estate {
  tag: string;
  services: EstateService[];
  size: Size;
}

/** The estate of a size: as few services as the per-service maxima allow, records and databases spread evenly. */
async function seed(
  raw: ReturnType<typeof createSandboxAwsClients>,
  tag: string,
  size: Size,
): Promise<Estate> {
  const count = Math.max(
    Math.ceil(size.records / RECORDS_PER_SERVICE_ZONE_MAX),
    Math.ceil(size.databases / DATABASES_PER_SERVICE_MAX),
  );
  const services = await seedEstate(raw, {
    tag,
    domain: 'fleet.drctl.internal.',
    services: count,
    databases: (s) => share(size.databases, count, s),
    records: (s, zoneName) =>
      Array.from(
        { length: share(size.records, count, s) },
        (_, r) => `r${String(r).padStart(4, '0')}.${zoneName}`,
      ),
  });
  return { tag, services, size };
}

/** `total` spread over `parts` as evenly as whole numbers allow. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

interface Floor {
  route53: number;
  /** The slower of the two regions' RDS buckets (the primaries' region: its bucket carries the fences). */
  rds: number;
  calls: { route53: number; rdsPrimaryRegion: number; rdsReplicaRegion: number };
}

/**
 * The least time the account limits allow: for each bucket, the calls an evacuation cannot do without, less the
 * bucket's burst, at the refill rate; the floor is the slowest bucket. RDS has one bucket per region (as AWS and
 * the layer keep them): in the primaries' region, per database the fence's ModifyDBInstance (security groups) and
 * RebootDBInstance; in the replicas' region one PromoteReadReplica per database; in each region one
 * DescribeDBInstances of up to 100 instances before the change and one after (to confirm fenced / promoted), and
 * in the primaries' region one more between the swap and the reboot (RDS shows the swap `modifying` and refuses a
 * reboot meanwhile; the layer emulates it). Route 53: per zone one ListHostedZonesByName (the zone's id), one ListResourceRecordSets page of up to 300
 * records (the values to undo), one ChangeResourceRecordSets batch of up to 500 UPSERTs and one GetChange.
 */
function rateLimitFloor(estate: Estate): Floor {
  const databases = estate.size.databases;
  const describes = 2 * Math.ceil(databases / 100);
  const rdsPrimaryRegion = 2 * databases + describes + Math.ceil(databases / 100);
  const rdsReplicaRegion = databases + describes;
  const route53Calls = estate.services.reduce(
    (n, s) => n + 1 + Math.ceil(s.records.length / 300) + 2 * Math.ceil(s.records.length / 500),
    0,
  );
  const floorOf = (calls: number, limit: { burst: number; perSecond: number }) =>
    (Math.max(0, calls - limit.burst) / limit.perSecond) * 1000;
  return {
    route53: floorOf(route53Calls, LIMITS.route53),
    rds: Math.max(floorOf(rdsPrimaryRegion, LIMITS.rds), floorOf(rdsReplicaRegion, LIMITS.rds)),
    calls: {
      route53: route53Calls,
      rdsPrimaryRegion,
      rdsReplicaRegion,
    },
  };
}

/** Per step kind, when its steps ran across every service's child failover (read from their results). */
async function timelineOf(client: Client, evacuation: EvacuationProgress): Promise<KindSpan[]> {
  const origin = Date.parse(evacuation.startedAt);
  const entries: TimelineEntry[] = [];
  for (const service of evacuation.services) {
    if (service.workflowId === undefined) continue;
    const handle = client.workflow.getHandle(service.workflowId);
    const result = await handle.result().then(
      (value: FailoverResult) => value,
      () => undefined,
    );
    entries.push(...(result?.timeline ?? []));
    if (process.env.FLEET_TIMELINE_FILE)
      appendFileSync(
        process.env.FLEET_TIMELINE_FILE,
        `${JSON.stringify({
          evacuation: evacuation.workflowId,
          services: evacuation.services.length,
          service: service.workflowId,
          origin,
          ...(result === undefined ? { failed: true } : {}),
          timeline: result?.timeline ?? [],
        })}\n`,
      );
  }
  const kinds = new Map<string, TimelineEntry[]>();
  for (const entry of entries) {
    if (entry.kind === 'parallel') continue;
    kinds.set(entry.kind, [...(kinds.get(entry.kind) ?? []), entry]);
  }
  return [...kinds].map(([kind, steps]) => {
    const durations = steps.map((s) => s.durationMs ?? 0).sort((a, b) => a - b);
    return {
      kind,
      steps: steps.length,
      firstStartMs: Math.min(...steps.map((s) => Date.parse(s.startedAt) - origin)),
      lastEndMs: Math.max(...steps.map((s) => Date.parse(s.endedAt ?? s.startedAt) - origin)),
      medianMs: durations[Math.floor(durations.length / 2)] ?? 0,
      retries: steps.reduce((n, s) => n + Math.max(0, s.attempts - 1), 0),
      readWhileHeld: steps.filter((s) => s.facts?.readWhileHeld === true).length,
    };
  });
}

/**
 * Waits for the evacuation to close, seen as `drctl evacuate --follow` sees it: the result's long poll answers as
 * soon as it closes (polling a query every 250 ms saw it up to ~1.4 s late on the busy machine). Meanwhile its
 * progress is read every second, to stop at once if a service pauses (the bench would wait for an operator). A read
 * can fail while the worker is starved of CPU (a workflow task that timed out and waits for its retry): it is read
 * again, up to 30 times in a row. Returns its result and when the close was seen.
 */
async function waitForEnd(
  client: Client,
  workflowId: string,
): Promise<{ progress: EvacuationProgress; seenAt: number }> {
  let seenAt: number | undefined;
  const closed = client.workflow
    .getHandle(workflowId)
    .result()
    .then(
      () => undefined,
      () => undefined,
    )
    .finally(() => {
      seenAt = performance.now();
    });
  let unreadable = 0;
  for (;;) {
    await Promise.race([closed, new Promise((tick) => setTimeout(tick, 1000))]);
    const read = await readEvacuation(client, workflowId).catch((error: unknown) => {
      if (++unreadable > 30) throw error;
      return undefined;
    });
    if (read === undefined) continue;
    unreadable = 0;
    const { closed: ended, progress } = read;
    if (ended) return { progress, seenAt: seenAt ?? performance.now() };
    if (progress.status === 'paused')
      throw new Error(
        `${workflowId} paused: ${progress.services
          .filter((s) => s.state === 'paused')
          .map((s) => `${s.runbookId}: ${s.detail ?? ''}`)
          .join('; ')}`,
      );
  }
}

function print(all: Figures[]): void {
  const apiOf = (stats: StrictStats, service: 'route53' | 'rds') =>
    Object.entries(stats.operations).filter(([, s]) => s.service === service);
  console.log(
    '\nRegion evacuation under emulated AWS limits (Route 53 burst 50, 10/s; RDS burst 300, 12/s; GetMetricData 50/s)',
  );
  console.log(
    `${'records'.padStart(7)} ${'dbs'.padStart(4)} ${'svcs'.padStart(4)} ${'time'.padStart(8)} ${'floor'.padStart(8)} ${'÷floor'.padStart(7)} ${'failed'.padStart(6)} ${'throttled'.padStart(9)} ${'R53 calls'.padStart(9)} ${'RDS calls'.padStart(9)}  effects (expected)`,
  );
  for (const f of all) {
    const failed = f.result.services.filter((s) => s.state !== 'succeeded').length;
    const calls = (service: 'route53' | 'rds') =>
      apiOf(f.stats, service).reduce((n, [, s]) => n + s.calls, 0);
    const effects = Object.entries(f.expectedEffects)
      .map(([op, expected]) => `${op} ${f.stats.effects[op] ?? 0} (${expected})`)
      .join(', ');
    console.log(
      `${String(f.size.records).padStart(7)} ${String(f.size.databases).padStart(4)} ${String(f.services).padStart(4)} ${formatMs(f.wallMs).padStart(8)} ${formatMs(f.floorMs).padStart(8)} ${(f.wallMs / Math.max(f.floorMs, 1)).toFixed(2).padStart(7)} ${String(failed).padStart(6)} ${String(f.stats.totals.throttled).padStart(9)} ${String(calls('route53')).padStart(9)} ${String(calls('rds')).padStart(9)}  ${effects}`,
    );
  }
  const last = all[all.length - 1];
  if (last === undefined) return;
  if (last.floorMs === 0) {
    console.log("\nThe last size fits in the buckets' bursts: its floor is 0 and the ratio means nothing.");
  }
  console.log(
    `\nHeadline (${last.size.records} records in ${last.services} zones, ${last.size.databases} RDS replicas):`,
  );
  const ratio = (floorMs: number) => (last.wallMs / Math.max(floorMs, 1)).toFixed(2);
  const withDurations = last.floorMs + last.modifyMs + last.rebootMs + last.propagationMs;
  console.log(
    `  achieved ${formatMs(last.wallMs)}, floor from rates ${formatMs(last.floorMs)} (Route 53 ${formatMs(last.floor.route53)}: ${last.floor.calls.route53} calls; RDS ${formatMs(last.floor.rds)}: ${last.floor.calls.rdsPrimaryRegion} calls in ${PRIMARY_REGION}, ${last.floor.calls.rdsReplicaRegion} in ${REPLICA_REGION}, a bucket each) → ${ratio(last.floorMs)}× the floor (goal ≤ 1.25×)`,
  );
  const rdsCallsIn = (region: string) =>
    apiOf(last.stats, 'rds').reduce((n, [, s]) => n + (s.callsByRegion[region] ?? 0), 0);
  console.log(
    `  RDS calls made: ${rdsCallsIn(PRIMARY_REGION)} in ${PRIMARY_REGION} (the floor's ${last.floor.calls.rdsPrimaryRegion}), ${rdsCallsIn(REPLICA_REGION)} in ${REPLICA_REGION} (the floor's ${last.floor.calls.rdsReplicaRegion})`,
  );
  console.log(`  where the time went: ${timeModel(last, rdsCallsIn(PRIMARY_REGION))}`);
  console.log(
    `  floor including emulated AWS durations (+ the last fence's swap ${formatMs(last.modifyMs)} and reboot ${formatMs(last.rebootMs)}, and Route 53 PENDING→INSYNC ${formatMs(last.propagationMs)} after the last change batch; the layer emulates no promotion time: moto promotes at once): ${formatMs(withDurations)} → ${ratio(withDurations)}×`,
  );
  const origin = Date.parse(last.result.startedAt);
  const done = last.result.services
    .filter((s) => s.endedAt !== undefined)
    .map((s) => Date.parse(s.endedAt ?? '') - origin)
    .sort((a, b) => a - b);
  if (done.length > 0)
    console.log(
      `  services done (from the evacuation start): first ${formatMs(done[0] ?? 0)}, median ${formatMs(median(done))}, last ${formatMs(done[done.length - 1] ?? 0)}`,
    );
  const { edges } = last;
  console.log(
    `  outside the services: to the evacuation's start ${formatMs(edges.startMs)}, to its first service ${formatMs(edges.firstServiceMs)}; from the last service to its end ${formatMs(edges.closeMs)}, to the bench seeing it ${formatMs(edges.seenMs)}`,
  );
  console.log(`  CPU while it ran: ${describeCpuShare(last.cpu)}`);
  console.log('  timeline per step kind (from the evacuation start; all services):');
  for (const span of last.timeline)
    console.log(
      `    ${span.kind.padEnd(18)} ${String(span.steps).padStart(4)} steps  first start ${formatMs(span.firstStartMs).padStart(7)}  last end ${formatMs(span.lastEndMs).padStart(7)}  median ${formatMs(span.medianMs).padStart(7)}  retries ${span.retries}${span.readWhileHeld > 0 ? `  read while held ${span.readWhileHeld}` : ''}`,
    );
  const failed = last.result.services.filter((s) => s.state !== 'succeeded');
  console.log(
    `  failed services: ${failed.length}${failed.length ? ` (${failed.map((s) => `${s.runbookId}: ${s.detail ?? s.state}`).join('; ')})` : ''}`,
  );
  const throttleFailures = last.result.services.filter((s) => /thrott/i.test(s.detail ?? '')).length;
  console.log(
    `  throttled calls at the layer: ${last.stats.totals.throttled} (slowed, retried); services failed by throttling: ${throttleFailures}`,
  );
  const exactlyOnce = Object.entries(last.expectedEffects).every(
    ([op, expected]) => (last.stats.effects[op] ?? 0) === expected,
  );
  console.log(
    `  effects exactly once at the layer: ${exactlyOnce ? 'yes' : 'NO'} (${JSON.stringify(last.stats.effects)})`,
  );
  console.log('  calls per operation:');
  for (const [op, s] of Object.entries(last.stats.operations).sort())
    console.log(
      `    ${op.padEnd(28)} calls ${String(s.calls).padStart(5)} ${JSON.stringify(s.callsByRegion)}  throttled ${String(s.throttled).padStart(4)}  refused ${JSON.stringify(s.refused)}`,
    );
}

/**
 * The evacuation's time as the primaries' RDS bucket sets it: once the first fence starts, the bucket the pacer
 * keeps (AWS's burst less the arrival-jitter reserve) is spent at once and every further call of the region waits
 * for the refill, so the last fence ends about (first fence) + (calls − bucket) ÷ rate after the start; what comes
 * after it (the last promotions and switches) is the tail.
 */
function timeModel(figures: Figures, primaryRegionCalls: number): string {
  const fences = figures.timeline.find((span) => span.kind === 'database.fence');
  if (fences === undefined) return 'no fence ran';
  const kept = keptBurst(LIMITS.rds);
  const drainMs = (Math.max(0, primaryRegionCalls - kept) / LIMITS.rds.perSecond) * 1000;
  const endMs = figures.wallMs - figures.edges.startMs;
  return `first fence at ${formatMs(fences.firstStartMs)}, then ${primaryRegionCalls} calls in ${PRIMARY_REGION} less the ${kept} the pacer's bucket holds at ${LIMITS.rds.perSecond}/s: ${formatMs(drainMs)} → ${formatMs(fences.firstStartMs + drainMs)} (the last fence ended at ${formatMs(fences.lastEndMs)}); the tail after it, ${formatMs(endMs - fences.lastEndMs)}`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench fleet: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
