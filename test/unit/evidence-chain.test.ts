import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { appendBundle, ChainConflictError, type BundleContent } from '../../evidence/append-bundle';
import {
  checkEnvelopeSignature,
  parseEnvelope,
  signEnvelope,
  type DsseEnvelope,
} from '../../evidence/envelope';
import { ChainLayout } from '../../evidence/layout';
import {
  manifestPayload,
  parseManifest,
  sha256Hex,
  type EvidenceManifest,
  type EvidenceRun,
} from '../../evidence/manifest';
import { addYears } from '../../evidence/retention';
import { verifyChain } from '../../evidence/verify-chain';
import { FakeEvidenceStore } from '../fakes/fake-evidence-store';
import { ledgerWriter } from '../fakes/ledger-writer';

const T0 = new Date('2026-11-27T09:00:00.000Z');

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

function run(n: number, kind: EvidenceRun['kind'] = 'failover'): EvidenceRun {
  return {
    kind,
    workflowId: `${kind}-ehr-db-${n}`,
    runId: `run-${n}`,
    workflowType: kind === 'drill' ? 'drillWorkflow' : 'failoverWorkflow',
    closeStatus: 'COMPLETED',
    outcome: 'succeeded',
    runbookId: 'ehr-db',
    runbookSha256: sha256Hex(`runbook ${n}`),
    startedAt: T0.toISOString(),
    closedAt: T0.toISOString(),
    children: [],
  };
}

function bundle(n: number): BundleContent {
  return {
    run: run(n),
    files: [
      { path: 'history.json', body: Buffer.from(`{"events":[${n}]}`), contentType: 'application/json' },
      {
        path: 'result.json',
        body: Buffer.from(`{"status":"succeeded","n":${n}}`),
        contentType: 'application/json',
      },
      { path: 'reports/timeline.md', body: Buffer.from(`# run ${n}\n`), contentType: 'text/markdown' },
    ],
  };
}

function setUp(count: number) {
  let clock = T0.getTime();
  // S3's clock (LastModified) and the writer's agree, as they do within a second in AWS.
  const store = new FakeEvidenceStore(() => new Date(clock));
  const layout = new ChainLayout('evidence/', 'default');
  const keys = keyPair();
  const writer = ledgerWriter(store, layout, keys.privateKey, () => new Date((clock += 1000)));
  return {
    store,
    layout,
    keys,
    writer,
    async append(from: number, to: number) {
      for (let n = from; n <= to; n++) await appendBundle(writer, bundle(n));
    },
    verify: (options: Partial<Parameters<typeof verifyChain>[2]> = {}) =>
      verifyChain(store, layout, { trustedKeys: [keys.publicKey], ...options }),
    manifestAt(sequence: number): { envelope: DsseEnvelope; manifest: EvidenceManifest } {
      const envelope = parseEnvelope(store.bytes(layout.manifestKey(sequence))) as DsseEnvelope;
      const manifest = parseManifest(Buffer.from(envelope.payload, 'base64')) as EvidenceManifest;
      return { envelope, manifest };
    },
    count,
  };
}

function kinds(report: Awaited<ReturnType<typeof verifyChain>>): string[] {
  return report.problems.map((problem) => `${problem.kind}@${problem.sequence}`);
}

describe('manifest and chain', () => {
  test('GIVEN three bundles WHEN appended THEN manifests 1..3 link by hash, list every file with its sha256, and lock for 6 years', async () => {
    const chain = setUp(3);
    await chain.append(1, 3);

    const first = chain.manifestAt(1).manifest;
    expect(first.sequence).toBe(1);
    expect(first.previousManifestSha256).toBeNull();
    expect(first.files.map((file) => file.path)).toEqual([
      'history.json',
      'result.json',
      'reports/timeline.md',
    ]);
    expect(first.files[0]!.sha256).toBe(sha256Hex('{"events":[1]}'));
    expect(first.files[0]!.key).toBe('evidence/default/runs/failover-ehr-db-1/run-1/history.json');
    for (const sequence of [2, 3]) {
      expect(chain.manifestAt(sequence).manifest.previousManifestSha256).toBe(
        sha256Hex(chain.store.bytes(chain.layout.manifestKey(sequence - 1))),
      );
    }
    const stored = await chain.store.get(first.files[1]!.key);
    expect(stored?.lockMode).toBe('COMPLIANCE');
    expect(stored!.retainUntil!.getTime()).toBeGreaterThanOrEqual(
      addYears(new Date(first.createdAt), 6).getTime(),
    );
    expect(Date.parse(first.retention.retainUntil)).toBeGreaterThanOrEqual(
      addYears(new Date(first.createdAt), 6).getTime(),
    );
  });

  test('GIVEN the same run requested twice WHEN appended again THEN the chain does not grow and the head is returned', async () => {
    const chain = setUp(1);
    const first = await appendBundle(chain.writer, bundle(1));
    const again = await appendBundle(chain.writer, bundle(1));
    expect(again).toEqual({ ...first, alreadyWritten: true });
    expect(chain.store.allKeys().filter((key) => key.includes('/manifests/'))).toHaveLength(1);
  });

  test('GIVEN a retried write whose files were already stored WHEN appended THEN the files are kept and one manifest is written', async () => {
    const chain = setUp(1);
    const content = bundle(1);
    for (const file of content.files)
      chain.store.putVersion(chain.layout.fileKey('failover-ehr-db-1', 'run-1', file.path), file.body, {
        lockMode: 'COMPLIANCE',
        retainUntil: addYears(T0, 7),
      });
    await appendBundle(chain.writer, content);
    expect(
      (await chain.store.listKeys('evidence/default/runs/')).every((entry) => entry.versions === 1),
    ).toBe(true);
    expect((await chain.verify()).ok).toBe(true);
  });

  test('GIVEN a report planted under the bundle\'s path (saying "passed") WHEN the ledger appends THEN the manifest names this attempt\'s report under a key of its own, never the planted bytes; other files still must match', async () => {
    // Before: the planted bytes' sha256 went into the signed manifest ("a rendering an earlier attempt wrote"), so
    // anyone allowed s3:PutObject on the bucket had the ledger sign their report.
    const chain = setUp(1);
    const content = bundle(1);
    const reportKey = chain.layout.fileKey('failover-ehr-db-1', 'run-1', 'reports/timeline.md');
    const planted = Buffer.from('# run 1: passed, RTO 12 s\n');
    chain.store.putVersion(reportKey, planted, { lockMode: 'COMPLIANCE', retainUntil: addYears(T0, 7) });
    const rendered = content.files.find((file) => file.path === 'reports/timeline.md')!.body;

    await appendBundle(chain.writer, content);

    const listed = chain.manifestAt(1).manifest.files.find((file) => file.path === 'reports/timeline.md')!;
    expect(listed.sha256).toBe(sha256Hex(rendered));
    expect(listed.key).toBe(
      `evidence/default/runs/failover-ehr-db-1/run-1/reports/timeline.${sha256Hex(rendered).slice(0, 16)}.md`,
    );
    const stored = await chain.store.get(listed.key);
    expect(stored?.body.equals(rendered)).toBe(true);
    expect(stored?.lockMode).toBe('COMPLIANCE');
    expect(chain.store.bytes(reportKey).equals(planted)).toBe(true);
    expect((await chain.verify()).problems).toEqual([]);

    const other = setUp(1);
    const resultKey = other.layout.fileKey('failover-ehr-db-1', 'run-1', 'result.json');
    other.store.putVersion(resultKey, Buffer.from('{"status":"failed"}'), {
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 7),
    });
    await expect(appendBundle(other.writer, bundle(1))).rejects.toThrow(
      /already holds other bytes than result\.json/,
    );
  });

  test('GIVEN a retry whose report renders as an earlier attempt already stored it beside a taken path THEN that object is kept and named, one version', async () => {
    const chain = setUp(1);
    const content = bundle(1);
    const reportKey = chain.layout.fileKey('failover-ehr-db-1', 'run-1', 'reports/timeline.md');
    chain.store.putVersion(reportKey, 'planted', { lockMode: 'COMPLIANCE', retainUntil: addYears(T0, 7) });
    const rendered = content.files.find((file) => file.path === 'reports/timeline.md')!.body;
    const besideKey = chain.layout.fileKey(
      'failover-ehr-db-1',
      'run-1',
      `reports/timeline.${sha256Hex(rendered).slice(0, 16)}.md`,
    );
    chain.store.putVersion(besideKey, rendered, { lockMode: 'COMPLIANCE', retainUntil: addYears(T0, 7) });

    await appendBundle(chain.writer, content);

    expect(chain.manifestAt(1).manifest.files.map((file) => file.key)).toContain(besideKey);
    expect((await chain.store.listVersions(besideKey)).versions).toHaveLength(1);
    expect((await chain.verify()).problems).toEqual([]);
  });

  test("GIVEN files an attempt stored days before it failed WHEN a later attempt writes the manifest THEN their lock is extended to the manifest's retain-until and verify passes", async () => {
    // Before: the files kept the first attempt's retain-until, days short of createdAt + 6 years: retention-shortened.
    const chain = setUp(1);
    const content = bundle(1);
    const firstAttemptUntil = addYears(T0, 6);
    for (const file of content.files)
      chain.store.putVersion(chain.layout.fileKey('failover-ehr-db-1', 'run-1', file.path), file.body, {
        lockMode: 'COMPLIANCE',
        retainUntil: firstAttemptUntil,
      });
    const threeDaysLater = new Date(T0.getTime() + 3 * 86_400_000);
    const writer = { ...chain.writer, now: () => threeDaysLater };

    await appendBundle(writer, content);

    const { manifest } = chain.manifestAt(1);
    for (const file of manifest.files) {
      const stored = await chain.store.get(file.key);
      expect(stored?.lockMode).toBe('COMPLIANCE');
      expect(stored?.retainUntil?.toISOString()).toBe(manifest.retention.retainUntil);
      expect((await chain.store.listVersions(file.key)).versions).toHaveLength(1);
    }
    expect(kinds(await chain.verify())).toEqual([]);
  });

  test('GIVEN a file an earlier attempt locked longer than this one WHEN appended THEN its later date is kept', async () => {
    const chain = setUp(1);
    const content = bundle(1);
    const key = chain.layout.fileKey('failover-ehr-db-1', 'run-1', 'history.json');
    chain.store.putVersion(key, content.files[0]!.body, {
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 10),
    });

    await appendBundle(chain.writer, content);

    expect((await chain.store.get(key))?.retainUntil).toEqual(addYears(T0, 10));
    expect((await chain.verify()).ok).toBe(true);
  });

  test('GIVEN another writer took the next sequence WHEN the ledger appends THEN it refuses rather than fork the chain', async () => {
    const chain = setUp(2);
    await chain.append(1, 1);
    const realList = chain.store.listKeysPage.bind(chain.store);
    // The other writer lands between the ledger reading the head and writing its manifest.
    let raced = false;
    chain.store.listKeysPage = async (prefix, afterKey, maxEntries) => {
      const listed = await realList(prefix, afterKey, maxEntries);
      if (!raced && prefix.endsWith('manifests/')) {
        raced = true;
        chain.store.putVersion(chain.layout.manifestKey(2), '{"forged":true}', {
          lockMode: 'COMPLIANCE',
          retainUntil: addYears(T0, 7),
        });
      }
      return listed;
    };
    await expect(appendBundle(chain.writer, bundle(2))).rejects.toBeInstanceOf(ChainConflictError);
  });

  test('GIVEN the manifest write went through but its answer was lost (the SDK sent it again: 412) WHEN the ledger appends THEN it sees its own manifest and goes on', async () => {
    // Reported as another writer's manifest, the append failed and its retry found the run already bundled: a
    // false alarm in the ledger, and the index entries left to that retry.
    const chain = setUp(2);
    await chain.append(1, 1);
    const realPut = chain.store.put.bind(chain.store);
    chain.store.put = async (key, body, options) => {
      const written = await realPut(key, body, options);
      return key === chain.layout.manifestKey(2) ? 'exists' : written;
    };

    const appended = await appendBundle(chain.writer, bundle(2));

    expect(appended).toMatchObject({ sequence: 2, alreadyWritten: false });
    expect(kinds(await chain.verify())).toEqual([]);
  });

  test('GIVEN the newest manifest hidden by a delete marker WHEN the ledger appends THEN it takes the next sequence, links to the hidden manifest, and the hidden one keeps its place', async () => {
    // Before: the head skipped the hidden manifest, the append took sequence 3 again (If-None-Match writes over a
    // delete marker), and run 3 dropped out of the chain with verify reporting only "overwritten".
    const chain = setUp(4);
    await chain.append(1, 3);
    const third = chain.layout.manifestKey(3);
    const thirdBytes = chain.store.bytes(third);
    chain.store.addDeleteMarker(third);

    const appended = await appendBundle(chain.writer, bundle(4));

    expect(appended).toMatchObject({ sequence: 4, alreadyWritten: false });
    const thirdHistory = await chain.store.listVersions(third);
    expect(thirdHistory.versions).toHaveLength(1);
    expect(
      (await chain.store.getVersion(third, thirdHistory.versions[0]!.versionId))?.body.equals(thirdBytes),
    ).toBe(true);
    expect(chain.manifestAt(4).manifest.previousManifestSha256).toBe(sha256Hex(thirdBytes));
    const report = await chain.verify();
    expect(kinds(report)).toEqual(['deleted@3']);
    expect(report.problems[0]!.message).toContain(
      `still readable by version id (GetObject ${third} versionId ${thirdHistory.versions[0]!.versionId})`,
    );
  });

  test('signature: a manifest verifies with the evidence public key, not with another key, and not once changed', () => {
    const { privateKey, publicKey } = keyPair();
    const other = keyPair();
    const envelope = signEnvelope(Buffer.from('{"sequence":1}'), privateKey);
    expect(checkEnvelopeSignature(envelope, [publicKey])).toEqual({
      ok: true,
      keyId: envelope.signatures[0]!.keyid,
    });
    const unknown = checkEnvelopeSignature(envelope, [other.publicKey]);
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.reason).toMatch(/signed only by unknown key/);
    const changed = { ...envelope, payload: Buffer.from('{"sequence":2}').toString('base64') };
    const bad = checkEnvelopeSignature(changed, [publicKey]);
    expect(!bad.ok && bad.reason).toMatch(/does not verify: the manifest was changed after signing/);
  });
});

describe('verify detects each tamper precisely', () => {
  test('an untouched chain verifies', async () => {
    const chain = setUp(4);
    await chain.append(1, 4);
    const report = await chain.verify();
    expect(report).toMatchObject({ ok: true, manifests: 4, files: 12, first: 1, last: 4, problems: [] });
  });

  test('gap: a fabricated manifest two places ahead leaves a missing sequence', async () => {
    const chain = setUp(3);
    await chain.append(1, 3);
    // An attacker copies manifest 3 to sequence 5 (the sequence inside still says 3).
    chain.store.putVersion(chain.layout.manifestKey(5), chain.store.bytes(chain.layout.manifestKey(3)), {
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 7),
    });
    const report = await chain.verify();
    expect(report.ok).toBe(false);
    const gap = report.problems.find((problem) => problem.kind === 'gap');
    expect(gap?.message).toBe(
      'gap in the chain: manifest sequence 4 is missing (no object at all); the chain jumps from 3 to 5',
    );
  });

  test('deleted: a delete marker hiding a manifest is named, with its remaining versions', async () => {
    const chain = setUp(3);
    await chain.append(1, 3);
    chain.store.addDeleteMarker(chain.layout.manifestKey(2));
    expect(() => chain.store.deleteVersion(chain.layout.manifestKey(2), 'v5')).toThrow(
      /AccessDenied|NoSuchVersion/,
    );
    const report = await chain.verify();
    expect(kinds(report)).toEqual(['deleted@2']);
    expect(report.problems[0]!.message).toMatch(
      /manifest 2 is deleted: .*0000000002\.dsse\.json is hidden by a delete marker \(1 locked version\(s\) remain/,
    );
  });

  test('deleted and written again: a manifest displaced over a delete marker is named, with the version still readable', async () => {
    // Before: reported only as "overwritten" (the current version still verified), though run 3 left the chain.
    const chain = setUp(3);
    await chain.append(1, 3);
    const third = chain.layout.manifestKey(3);
    const displacedVersion = (await chain.store.listVersions(third)).versions[0]!.versionId;
    chain.store.addDeleteMarker(third);
    const { manifest } = chain.manifestAt(2);
    const displacing: EvidenceManifest = {
      ...manifest,
      sequence: 3,
      previousManifestSha256: sha256Hex(chain.store.bytes(chain.layout.manifestKey(2))),
      run: { ...manifest.run, workflowId: 'failover-ehr-db-9', runId: 'run-9' },
    };
    const envelope = signEnvelope(manifestPayload(displacing), chain.keys.privateKey);
    await chain.store.put(third, Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`), {
      sha256Hex: sha256Hex(`${JSON.stringify(envelope, null, 2)}\n`),
      contentType: 'application/json',
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 7),
      onlyIfAbsent: true,
    });

    const report = await chain.verify();

    expect(kinds(report)).toEqual(['deleted@3']);
    expect(report.problems[0]!.message).toMatch(
      new RegExp(
        `^manifest 3 \\(.*0000000003\\.dsse\\.json\\) was deleted and written again: .*versionId ${displacedVersion}`,
      ),
    );
  });

  test('edited file: a new version of result.json is named with expected and actual hash', async () => {
    const chain = setUp(3);
    await chain.append(1, 3);
    const key = chain.layout.fileKey('failover-ehr-db-2', 'run-2', 'result.json');
    chain.store.putVersion(key, '{"status":"succeeded","n":2,"rtoMs":1}', {
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 7),
    });
    const report = await chain.verify();
    expect(kinds(report)).toEqual(['edited-file@2']);
    const [problem] = report.problems;
    expect(problem).toMatchObject({
      key,
      expected: sha256Hex('{"status":"succeeded","n":2}'),
      actual: sha256Hex('{"status":"succeeded","n":2,"rtoMs":1}'),
    });
    expect(problem!.message).toContain('edited file result.json of failover-ehr-db-2 (manifest 2)');
    expect(problem!.message).toContain('of 2)');
  });

  test('reordered link: a re-signed manifest that names an older predecessor is named as the broken link', async () => {
    const chain = setUp(3);
    await chain.append(1, 3);
    // An insider with the key re-writes manifest 3 to link to manifest 1, cutting manifest 2 out of the order.
    const { manifest } = chain.manifestAt(3);
    const relinked = {
      ...manifest,
      previousManifestSha256: sha256Hex(chain.store.bytes(chain.layout.manifestKey(1))),
    };
    const envelope = signEnvelope(manifestPayload(relinked), chain.keys.privateKey);
    chain.store.putVersion(chain.layout.manifestKey(3), `${JSON.stringify(envelope, null, 2)}\n`, {
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 7),
    });
    const report = await chain.verify();
    expect(kinds(report)).toEqual(['reordered@3']);
    expect(report.problems[0]!.message).toMatch(
      /^reordered link 2→3: manifest 3 names manifest 1 \(sha256 [0-9a-f]{12}…\) as its predecessor, not manifest 2/,
    );
  });

  test('reordered: two manifests swapped in place are each named', async () => {
    const chain = setUp(3);
    await chain.append(1, 3);
    const two = chain.store.bytes(chain.layout.manifestKey(2));
    const three = chain.store.bytes(chain.layout.manifestKey(3));
    const lock = { lockMode: 'COMPLIANCE', retainUntil: addYears(T0, 7) };
    chain.store.putVersion(chain.layout.manifestKey(2), three, lock);
    chain.store.putVersion(chain.layout.manifestKey(3), two, lock);
    const report = await chain.verify();
    const messages = report.problems.map((problem) => problem.message);
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^reordered link at position 2: .*0000000002\.dsse\.json holds the manifest of sequence 3/,
      ),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^reordered link at position 3: .*0000000003\.dsse\.json holds the manifest of sequence 2/,
      ),
    );
    expect(report.problems.every((problem) => problem.kind === 'reordered')).toBe(true);
  });

  test('bad signature: a manifest edited without the key fails its signature', async () => {
    const chain = setUp(3);
    await chain.append(1, 3);
    const { envelope, manifest } = chain.manifestAt(3);
    const edited = { ...manifest, run: { ...manifest.run, outcome: 'passed' } };
    const forged = { ...envelope, payload: manifestPayload(edited).toString('base64') };
    chain.store.putVersion(chain.layout.manifestKey(3), JSON.stringify(forged), {
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 7),
    });
    const report = await chain.verify();
    expect(kinds(report)).toEqual(['bad-signature@3']);
    expect(report.problems[0]!.message).toMatch(
      /^bad signature on manifest 3 \(.*\): the signature by key [0-9a-f]{16}… does not verify/,
    );
  });

  test('bad signature: a manifest signed by a key the verifier does not trust', async () => {
    const chain = setUp(2);
    await chain.append(1, 2);
    const report = await verifyChain(chain.store, chain.layout, { trustedKeys: [keyPair().publicKey] });
    expect(kinds(report)).toEqual(['bad-signature@1', 'bad-signature@2']);
    expect(report.problems[0]!.message).toMatch(/signed only by unknown key/);
  });

  test('shortened retention: a new version locked one year is named with the date found and the date required', async () => {
    const chain = setUp(2);
    await chain.append(1, 2);
    const key = chain.layout.fileKey('failover-ehr-db-1', 'run-1', 'history.json');
    const createdAt = chain.manifestAt(1).manifest.createdAt;
    const shortUntil = addYears(T0, 1);
    chain.store.putVersion(key, chain.store.bytes(key), { lockMode: 'COMPLIANCE', retainUntil: shortUntil });
    const report = await chain.verify();
    expect(kinds(report)).toEqual(['retention-shortened@1']);
    expect(report.problems[0]).toMatchObject({
      key,
      actual: shortUntil.toISOString(),
      expected: addYears(new Date(createdAt), 6).toISOString(),
    });
    expect(report.problems[0]!.message).toContain(
      `retain-until ${shortUntil.toISOString()}, required at least`,
    );
  });

  test('retention mode: a GOVERNANCE version is named', async () => {
    const chain = setUp(1);
    await chain.append(1, 1);
    const key = chain.layout.fileKey('failover-ehr-db-1', 'run-1', 'result.json');
    chain.store.putVersion(key, chain.store.bytes(key), {
      lockMode: 'GOVERNANCE',
      retainUntil: addYears(T0, 7),
    });
    expect(kinds(await chain.verify())).toEqual(['retention-mode@1']);
  });

  test('retention mode: a version S3 shows unlocked names the permission that also hides a lock', async () => {
    // Before: "is none", though an auditor without s3:GetObjectRetention sees every object that way.
    const chain = setUp(1);
    await chain.append(1, 1);
    const key = chain.layout.fileKey('failover-ehr-db-1', 'run-1', 'result.json');
    chain.store.putVersion(key, chain.store.bytes(key), { retainUntil: addYears(T0, 7) });
    const report = await chain.verify();
    expect(report.problems.find((problem) => problem.kind === 'retention-mode')?.message).toMatch(
      /is none, required COMPLIANCE \(or this identity lacks s3:GetObjectRetention/,
    );
  });

  test('--since: a sequence or a date limits the walk, and the first link is still checked', async () => {
    const chain = setUp(4);
    await chain.append(1, 4);
    chain.store.putVersion(chain.layout.fileKey('failover-ehr-db-1', 'run-1', 'result.json'), 'edited', {
      lockMode: 'COMPLIANCE',
      retainUntil: addYears(T0, 7),
    });
    expect((await chain.verify({ since: { sequence: 2 } })).ok).toBe(true);
    expect((await chain.verify({ since: { sequence: 2 } })).first).toBe(2);
    const third = chain.manifestAt(3).manifest.createdAt;
    expect((await chain.verify({ since: { date: new Date(third) } })).first).toBe(3);
    expect(kinds(await chain.verify())).toEqual(['edited-file@1']);
  });

  test('--since a date: newest manifests hidden by delete markers are still walked and named deleted', async () => {
    // Before: the start skipped deleted entries, so it fell past the end: "nothing to verify", exit 0.
    const chain = setUp(4);
    await chain.append(1, 4);
    const fourth = new Date(chain.manifestAt(4).manifest.createdAt);
    chain.store.addDeleteMarker(chain.layout.manifestKey(4));
    const sinceFourth = await chain.verify({ since: { date: fourth } });
    expect(sinceFourth.ok).toBe(false);
    expect(kinds(sinceFourth)).toEqual(['deleted@4']);
    const third = new Date(chain.manifestAt(3).manifest.createdAt);
    chain.store.addDeleteMarker(chain.layout.manifestKey(3));
    expect(kinds(await chain.verify({ since: { date: third } }))).toEqual(['deleted@3', 'deleted@4']);
  });
});
