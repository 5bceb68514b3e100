import { generateKeyPairSync } from 'node:crypto';
import { appendBundle, type BundleContent, type ChainWriter } from '../../evidence/append-bundle';
import { findBundles, listChain } from '../../evidence/chain-listing';
import { ChainLayout } from '../../evidence/layout';
import { sha256Hex, type EvidenceRun } from '../../evidence/manifest';
import { readChain } from '../../evidence/read-chain';
import { verifyChain } from '../../evidence/verify-chain';
import { FakeEvidenceStore } from '../fakes/fake-evidence-store';
import { ledgerWriter } from '../fakes/ledger-writer';

/**
 * `drctl evidence show <run>` found a run's bundles by reading every manifest of the chain: one GetObject per
 * bundle ever written, on a chain that keeps six years of runs. The run index points at the manifests naming a
 * workflow id or run id; `getRequests` counts the GetObject requests S3 would receive.
 */
const T0 = new Date('2026-11-27T09:00:00.000Z');
const layout = new ChainLayout('evidence/', 'default');
const keys = generateKeyPairSync('ed25519');

function run(workflowId: string, runId: string, children: EvidenceRun['children'] = []): EvidenceRun {
  return {
    kind: children.length > 0 ? 'drill' : 'failover',
    workflowId,
    runId,
    workflowType: children.length > 0 ? 'drillWorkflow' : 'failoverWorkflow',
    closeStatus: 'COMPLETED',
    outcome: 'succeeded',
    runbookId: 'ehr-db',
    runbookSha256: sha256Hex(runId),
    startedAt: T0.toISOString(),
    closedAt: T0.toISOString(),
    children,
  };
}

function bundle(content: EvidenceRun): BundleContent {
  return {
    run: content,
    files: [
      {
        path: 'result.json',
        body: Buffer.from(`{"run":"${content.runId}"}`),
        contentType: 'application/json',
      },
    ],
  };
}

function writerOn(store: FakeEvidenceStore, now?: () => Date): ChainWriter {
  let clock = T0.getTime();
  const tick = now ?? (() => new Date((clock += 1000)));
  // The worker keeps where its last append left the head (activities/evidence/evidence-activities.ts).
  return { ...ledgerWriter(store, layout, keys.privateKey, tick), headHint: {} };
}

/** `count` failovers of services `svc-1` … each with its own workflow id, appended by the ledger. */
async function chainOf(count: number, store = new FakeEvidenceStore()): Promise<FakeEvidenceStore> {
  const writer = writerOn(store);
  for (let n = 1; n <= count; n++) await appendBundle(writer, bundle(run(`failover-svc-${n}`, `run-${n}`)));
  return store;
}

async function show(store: FakeEvidenceStore, id: string) {
  store.getRequests = 0;
  const found = await findBundles(store, layout, [keys.publicKey], id);
  return {
    sequences: found.map((entry) => entry.sequence),
    signatures: found.map((entry) => entry.signature?.startsWith('verified')),
    gets: store.getRequests,
  };
}

/** A chain as drctl wrote it before the run index: the same manifests and files, locked alike, no `index/` key. */
async function withoutIndex(store: FakeEvidenceStore): Promise<FakeEvidenceStore> {
  const legacy = new FakeEvidenceStore();
  for (const key of store.allKeys()) {
    const object = await store.get(key);
    if (object && !key.startsWith(`${layout.root}index/`)) legacy.putVersion(key, object.body, object);
  }
  return legacy;
}

describe('the evidence chain run index', () => {
  it('GIVEN 2,000 bundles WHEN showing one run THEN only its manifest is read (the whole chain before)', async () => {
    const store = await chainOf(2_000);

    expect(await show(store, 'failover-svc-1234')).toEqual({
      sequences: [1234],
      signatures: [true],
      gets: 1,
    });
    expect(await show(store, 'run-77')).toEqual({ sequences: [77], signatures: [true], gets: 1 });
    expect(await show(store, 'failover-svc-9999')).toEqual({ sequences: [], signatures: [], gets: 0 });
  });

  it('GIVEN a workflow id that recurs across runs and a drill with a child failover THEN each id finds every bundle naming it', async () => {
    const store = new FakeEvidenceStore();
    const writer = writerOn(store);
    await appendBundle(writer, bundle(run('failover-ehr-db', 'first')));
    await appendBundle(
      writer,
      bundle(
        run('drill-ehr-db-1', 'drill-run', [
          {
            workflowId: 'drill-ehr-db-1-failover',
            runId: 'child-run',
            workflowType: 'failoverWorkflow',
            closeStatus: 'COMPLETED',
          },
        ]),
      ),
    );
    await appendBundle(writer, bundle(run('failover-ehr-db', 'second')));

    expect((await show(store, 'failover-ehr-db')).sequences).toEqual([1, 3]);
    expect((await show(store, 'second')).sequences).toEqual([3]);
    expect((await show(store, 'drill-ehr-db-1-failover')).sequences).toEqual([2]);
    expect((await show(store, 'child-run')).sequences).toEqual([2]);
  });

  it('GIVEN a chain written before the index, then appended to by the ledger THEN old runs are found by reading only the manifests older than the index', async () => {
    const store = await withoutIndex(await chainOf(30));
    const writer = writerOn(store);
    for (let n = 31; n <= 35; n++) await appendBundle(writer, bundle(run(`failover-svc-${n}`, `run-${n}`)));

    expect(await show(store, 'failover-svc-7')).toEqual({ sequences: [7], signatures: [true], gets: 30 });
    expect(await show(store, 'failover-svc-33')).toEqual({
      sequences: [33],
      signatures: [true],
      gets: 30 + 1,
    });
    expect(store.allKeys().filter((key) => key.startsWith(layout.indexFromPrefix))).toEqual([
      layout.sequenceKey(layout.indexFromPrefix, 31),
    ]);
  });

  it('GIVEN a chain with no index at all THEN show reads it whole and still finds the run', async () => {
    const store = await withoutIndex(await chainOf(12));

    expect(await show(store, 'run-5')).toEqual({ sequences: [5], signatures: [true], gets: 12 });
  });

  it('GIVEN an index entry written behind the ledger that points at another run THEN that manifest is not shown', async () => {
    const store = await chainOf(5);
    store.putVersion(layout.sequenceKey(layout.indexPrefix('failover-svc-2'), 4), '');

    expect((await show(store, 'failover-svc-2')).sequences).toEqual([2]);
  });

  it('GIVEN the worker died after the manifest and before its index entries WHEN the append is retried THEN the entries are written and show finds the run', async () => {
    const store = await chainOf(3);
    const content = bundle(run('failover-svc-4', 'run-4'));
    await appendBundle(writerOn(store), content);
    for (const id of ['failover-svc-4', 'run-4'])
      store.addDeleteMarker(layout.sequenceKey(layout.indexPrefix(id), 4));
    expect((await show(store, 'failover-svc-4')).sequences).toEqual([]);

    const retried = await appendBundle(writerOn(store), content);

    expect(retried).toMatchObject({ sequence: 4, alreadyWritten: true });
    expect((await show(store, 'failover-svc-4')).sequences).toEqual([4]);
    expect((await show(store, 'run-4')).sequences).toEqual([4]);
  });

  it('GIVEN index entries WHEN stored THEN each is an empty object under the same COMPLIANCE lock as its manifest', async () => {
    const store = await chainOf(1);

    const entry = await store.get(layout.sequenceKey(layout.indexPrefix('failover-svc-1'), 1));
    const manifest = await store.get(layout.manifestKey(1));

    expect(entry?.body.length).toBe(0);
    expect(entry?.lockMode).toBe('COMPLIANCE');
    expect(entry?.retainUntil).toEqual(manifest?.retainUntil);
  });

  it('GIVEN 150,000 manifests WHEN the chain is read for list and verify THEN it is read (the highest sequence was a spread that overflowed the stack)', async () => {
    const store = new FakeEvidenceStore();
    for (let sequence = 1; sequence <= 150_000; sequence++)
      store.putVersion(layout.manifestKey(sequence), '{}');

    const slots = await readChain(store, layout, [keys.publicKey]);

    expect(slots).toHaveLength(150_000);
    expect((await listChain(store, layout, [keys.publicKey])).at(-1)?.sequence).toBe(150_000);
  });
});

describe('verify and the run index', () => {
  const verify = (store: FakeEvidenceStore) => verifyChain(store, layout, { trustedKeys: [keys.publicKey] });

  it('GIVEN a bundle appended without its index entries (an older worker) THEN verify names it and what to write', async () => {
    const store = await chainOf(4);
    for (const id of ['failover-svc-3', 'run-3'])
      store.addDeleteMarker(layout.sequenceKey(layout.indexPrefix(id), 3));

    const report = await verify(store);

    expect(report.ok).toBe(false);
    expect(report.problems.map((problem) => `${problem.kind}@${problem.sequence}`)).toEqual([
      'not-indexed@3',
    ]);
    expect(report.problems[0]!.message).toContain(
      'manifest 3 (run failover-svc-3) is not in the run index, so `drctl evidence show` does not find it',
    );
    expect(report.problems[0]!.message).toContain(layout.sequenceKey(layout.indexPrefix('run-3'), 3));
  });

  it('GIVEN a chain written before the index, then appended to THEN verify passes: the older manifests are below the index', async () => {
    const store = await withoutIndex(await chainOf(3));
    await appendBundle(writerOn(store), bundle(run('failover-svc-4', 'run-4')));

    expect((await verify(store)).problems).toEqual([]);
    expect((await verify(await withoutIndex(store))).problems).toEqual([]);
  });
});

describe('walking the chain', () => {
  it('GIVEN a store answering each GetObject after 2 ms WHEN 300 bundles are verified, and shown from a chain without an index, THEN each walk keeps 16 reads in flight and the report lists every bundle in order', async () => {
    const store = await chainOf(300);
    store.getLatencyMs = 2;

    const report = await verifyChain(store, layout, { trustedKeys: [keys.publicKey] });
    const walked = store.maxGetsInFlight;
    const legacy = await withoutIndex(store);
    legacy.getLatencyMs = 2;
    const shown = await findBundles(legacy, layout, [keys.publicKey], 'run-150');

    expect(report).toMatchObject({ ok: true, manifests: 300, files: 300 });
    expect(report.entries.map((entry) => entry.sequence)).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    expect(walked).toBe(16);
    expect(shown.map((entry) => entry.sequence)).toEqual([150]);
    expect(legacy.maxGetsInFlight).toBe(16);
  });
});

describe('a manifest key forged far ahead of the chain', () => {
  it('GIVEN manifests 1–3 and a key at sequence 4,000,000,000 THEN verify reports one gap and the forged object, and list shows the gap as one line', async () => {
    const store = await chainOf(3);
    store.putVersion(layout.manifestKey(4_000_000_000), 'not a manifest');

    const report = await verifyChain(store, layout, { trustedKeys: [keys.publicKey] });
    const listed = await listChain(store, layout, [keys.publicKey]);

    expect(report.problems.map((problem) => `${problem.kind}@${problem.sequence}`)).toEqual([
      'gap@4',
      'bad-signature@4000000000',
      'unreadable@4000000000',
    ]);
    expect(report.problems[0]!.message).toBe(
      'gap in the chain: manifest sequences 4–3999999999 are missing (no object at all); the chain jumps from 3 to 4000000000',
    );
    expect(report).toMatchObject({ first: 1, last: 4_000_000_000, manifests: 4 });
    expect(listed.map((entry) => [entry.sequence, entry.state, entry.through])).toEqual([
      [1, 'present', undefined],
      [2, 'present', undefined],
      [3, 'present', undefined],
      [4, 'missing', 3_999_999_999],
      [4_000_000_000, 'unreadable', undefined],
    ]);
    const since = await verifyChain(store, layout, {
      trustedKeys: [keys.publicKey],
      since: { sequence: 10 },
    });
    expect(since.problems.map((problem) => `${problem.kind}@${problem.sequence}`)).toEqual([
      'gap@10',
      'bad-signature@4000000000',
      'unreadable@4000000000',
    ]);
  });
});

describe('an index start forged far ahead', () => {
  it('GIVEN index/from/ written behind the ledger at sequence 9,000,000,000 on an indexed chain THEN show reads no further than the head', async () => {
    const store = await chainOf(40);
    store.putVersion(layout.sequenceKey(layout.indexFromPrefix, 9_000_000_000), '');
    store.addDeleteMarker(layout.sequenceKey(layout.indexFromPrefix, 1));

    const shown = await show(store, 'run-12');

    expect(shown.sequences).toEqual([12]);
    expect(shown.gets).toBeLessThanOrEqual(40 + 1);
  });
});

describe('keys the chain did not write', () => {
  it('GIVEN manifest 1 hidden by a delete marker and a copy of it under an 11-digit key THEN verify reports manifest 1 deleted (the copy is not taken for it)', async () => {
    const store = await chainOf(3);
    const original = store.bytes(layout.manifestKey(1));
    store.addDeleteMarker(layout.manifestKey(1));
    store.putVersion(`${layout.manifestsPrefix}00000000001.dsse.json`, original);

    const report = await verifyChain(store, layout, { trustedKeys: [keys.publicKey] });

    expect(report.problems.map((problem) => `${problem.kind}@${problem.sequence}`)).toEqual(['deleted@1']);
  });

  it('GIVEN a drill whose child has a workflow id too long for an S3 key THEN the append succeeds, the parent is indexed and verify passes', async () => {
    const store = new FakeEvidenceStore();
    const longId = `failover-${'x'.repeat(1100)}`;
    const drill = run('drill-long', 'drill-long-run', [
      { workflowId: longId, runId: 'child-long', workflowType: 'failoverWorkflow', closeStatus: 'COMPLETED' },
    ]);

    await appendBundle(writerOn(store), bundle(drill));

    expect((await show(store, 'drill-long')).sequences).toEqual([1]);
    expect((await show(store, 'child-long')).sequences).toEqual([1]);
    expect((await verifyChain(store, layout, { trustedKeys: [keys.publicKey] })).problems).toEqual([]);
  });
});

describe('verify --since', () => {
  it('GIVEN 500 bundles WHEN verifying since sequence 451 or since the date manifest 451 was stored THEN only the manifests from 450 on and their files are read', async () => {
    let clock = T0.getTime();
    const store = new FakeEvidenceStore(() => new Date(clock));
    const writer = writerOn(store, () => new Date((clock += 1000)));
    for (let n = 1; n <= 500; n++) await appendBundle(writer, bundle(run(`failover-svc-${n}`, `run-${n}`)));
    const stored451 = (await store.listKeys(layout.manifestKey(451)))[0]!.lastModified;

    for (const since of [{ sequence: 451 }, { date: stored451 }]) {
      store.getRequests = 0;
      const report = await verifyChain(store, layout, { trustedKeys: [keys.publicKey], since });

      expect(report).toMatchObject({ ok: true, first: 451, last: 500, manifests: 50, files: 50 });
      expect(store.getRequests).toBe(51 + 50);
    }
  });

  it('GIVEN manifest 2 overwritten after the date asked WHEN verifying since that date THEN the walk starts at 2 and names the new version', async () => {
    let clock = T0.getTime();
    const store = new FakeEvidenceStore(() => new Date(clock));
    const writer = writerOn(store, () => new Date((clock += 1000)));
    for (let n = 1; n <= 5; n++) await appendBundle(writer, bundle(run(`failover-svc-${n}`, `run-${n}`)));
    const date = new Date((clock += 1000));
    clock += 1000;
    store.putVersion(layout.manifestKey(2), store.bytes(layout.manifestKey(2)), {
      lockMode: 'COMPLIANCE',
      retainUntil: new Date(T0.getTime() + 7 * 365 * 86_400_000),
    });

    const report = await verifyChain(store, layout, { trustedKeys: [keys.publicKey], since: { date } });

    expect(report.first).toBe(2);
    expect(report.problems.map((problem) => `${problem.kind}@${problem.sequence}`)).toEqual([
      'overwritten@2',
    ]);
  });
});
