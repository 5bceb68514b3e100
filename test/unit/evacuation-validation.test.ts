import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAuthActivities } from '../../activities/auth/auth-activities';
import { loadReviewedCatalog } from '../../auth/io/reviewed-catalog';
import { findEvacuation } from '../../evacuations/catalog';
import { defineEvacuation } from '../../evacuations/define-evacuation';
import { evacuationSha256 } from '../../evacuations/evacuation-hash';
import { MAX_EVACUATION_BYTES } from '../../evacuations/evacuation-size';
import { EvacuationValidationError } from '../../evacuations/evacuation-validation-error';
import type { RunbookIssue } from '../../runbooks/runbook-validation-error';
import { runDrctl } from './run-drctl';

/** An evacuation is refused before anything starts, with the path of every bad field. */
function issuesOf(input: unknown): RunbookIssue[] {
  try {
    defineEvacuation(input as Parameters<typeof defineEvacuation>[0]);
    return [];
  } catch (error) {
    if (error instanceof EvacuationValidationError) return error.issues;
    throw error;
  }
}

/** The refusal `findEvacuation` throws for `id` in `dir` (the catalog's runbooks from `runbookDirs`). */
function loadRefusal(id: string, dir: string, runbookDirs: string[] = []): EvacuationValidationError {
  try {
    findEvacuation(id, runbookDirs, [dir]);
  } catch (caught) {
    expect(caught).toBeInstanceOf(EvacuationValidationError);
    return caught as EvacuationValidationError;
  }
  throw new Error(`${id} loaded: it was expected to be refused`);
}

const base = (waves: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'leave-east',
  title: 'Leave the east region',
  waves,
  ...extra,
});

test('a valid evacuation comes back as plain data with defaults: concurrency = wave size, pause on failure', () => {
  const evacuation = defineEvacuation(
    base([
      { id: 'data', runbooks: ['ehr-db', 'lab-db'] },
      { id: 'apps', runbooks: [{ runbook: 'portal', dependsOn: ['ehr-db'] }], concurrency: 1 },
    ]) as Parameters<typeof defineEvacuation>[0],
  );
  expect(evacuation.onServiceFailure).toBe('pause-service');
  expect(evacuation.waves.map((wave) => wave.concurrency)).toEqual([2, 1]);
  expect(evacuation.waves[1]?.runbooks).toEqual([{ runbook: 'portal', dependsOn: ['ehr-db'] }]);
  expect(JSON.parse(JSON.stringify(evacuation))).toEqual(evacuation);
  // A file's default export is already defined; loading defines it again, to the same value.
  expect(defineEvacuation(evacuation)).toEqual(evacuation);
});

test('a concurrency of 0 is refused at its path', () => {
  expect(issuesOf(base([{ id: 'data', runbooks: ['ehr-db'], concurrency: 0 }]))).toEqual([
    expect.objectContaining({ path: 'waves[0].concurrency' }),
  ]);
});

test('more than 200 runbooks in all waves are refused at waves; 200 pass', () => {
  const wave = (w: number, count: number) => ({
    id: `wave-${w}`,
    runbooks: Array.from({ length: count }, (_, s) => `svc-${w}-${s}`),
  });

  const tooMany = issuesOf(base([wave(0, 100), wave(1, 100), wave(2, 1)]));
  const enough = issuesOf(base([wave(0, 100), wave(1, 100)]));

  expect(tooMany).toEqual([
    {
      path: 'waves',
      message: expect.stringMatching(
        /^201 runbooks in all waves; an evacuation runs at most 200 .*50 MB.*split it into several evacuations$/,
      ),
    },
  ]);
  expect(enough).toEqual([]);
});

test('a runbook in two waves is refused at its second place, naming the first', () => {
  const issues = issuesOf(
    base([
      { id: 'data', runbooks: ['ehr-db'] },
      { id: 'apps', runbooks: ['portal', 'ehr-db'] },
    ]),
  );
  expect(issues).toEqual([
    {
      path: 'waves[1].runbooks[1]',
      message: expect.stringContaining('"ehr-db" is already in waves[0] (data)'),
    },
  ]);
});

test('a dependency cycle is refused, naming the services of the cycle', () => {
  const issues = issuesOf(
    base([
      {
        id: 'data',
        runbooks: [
          { runbook: 'a', dependsOn: ['b'] },
          { runbook: 'b', dependsOn: ['c'] },
          { runbook: 'c', dependsOn: ['a'] },
        ],
      },
    ]),
  );
  expect(issues).toHaveLength(1);
  expect(issues[0]?.path).toMatch(/^waves\[0\]\.runbooks\[\d\]\.dependsOn$/);
  expect(issues[0]?.message).toMatch(/dependency cycle: (a|b|c) → (a|b|c) → (a|b|c) → (a|b|c)/);
});

test('a long chain of dependencies, each service listed before the ones it needs, is checked once per service', () => {
  // s0 needs s1 and s2, s1 needs s2 and s3, …: each service is reached by exponentially many paths (before: the
  // check explored every one of them, and `validate` of this valid plan never finished).
  const chain = (count: number, last: string[] = []) =>
    base([
      {
        id: 'data',
        runbooks: Array.from({ length: count }, (_, i) => ({
          runbook: `s${i}`,
          dependsOn: i === count - 1 ? last : [`s${i + 1}`, `s${i + 2}`].filter((_, j) => i + j + 1 < count),
        })),
      },
    ]);

  expect(issuesOf(chain(60))).toEqual([]);
  // A cycle at its far end is still found.
  const cyclic = issuesOf(chain(60, ['s0']));
  expect(cyclic).toHaveLength(1);
  expect(cyclic[0]?.message).toMatch(/^dependency cycle: s0 → s1 → .* → s59 → s0;/);
});

test('a dependency on a later wave, on no wave, or on itself is refused at its path', () => {
  const issues = issuesOf(
    base([
      { id: 'data', runbooks: [{ runbook: 'ehr-db', dependsOn: ['portal', 'ghost', 'ehr-db'] }] },
      { id: 'apps', runbooks: ['portal'] },
    ]),
  );
  expect(issues).toEqual(
    expect.arrayContaining([
      { path: 'waves[0].runbooks[0].dependsOn[0]', message: expect.stringContaining('later wave') },
      { path: 'waves[0].runbooks[0].dependsOn[1]', message: expect.stringContaining('in no wave') },
      { path: 'waves[0].runbooks[0].dependsOn[2]', message: expect.stringContaining('itself') },
    ]),
  );
});

test('text a person reads is refused when it holds only spaces, at its path (before: an approval prompt of spaces was taken, and the gate showed no question)', () => {
  const issues = issuesOf(
    base(
      [
        { id: 'data', title: '  ', runbooks: ['ehr-db'] },
        { id: 'apps', runbooks: ['patient-portal-rds'], approval: { prompt: '   ' } },
      ],
      { title: ' ', owner: '\t' },
    ),
  );
  expect(issues.map((issue) => issue.path).sort()).toEqual(
    ['owner', 'title', 'waves[0].title', 'waves[1].approval.prompt'].sort(),
  );
  for (const issue of issues) expect(issue.message).toMatch(/must hold text, not only spaces/);
});

test('unknown fields and empty waves are refused at their paths', () => {
  const issues = issuesOf(base([{ id: 'data', runbooks: [], parallel: 3 }]));
  expect(issues.map((issue) => issue.path)).toEqual(
    expect.arrayContaining(['waves[0].runbooks', 'waves[0]']),
  );
});

test('an unknown field in a wave names the one meant and the fields allowed there', () => {
  const issues = issuesOf(base([{ id: 'data', runbooks: ['ehr-db'], concurency: 3 }]));
  expect(issues).toContainEqual({
    path: 'waves[0]',
    message: expect.stringMatching(
      /^unknown field concurency; did you mean "concurrency"\?; allowed here: .*\brunbooks\b/,
    ),
  });
});

test('a misspelt field in a service written as an object names the one meant, not "Invalid input"', () => {
  const issues = issuesOf(base([{ id: 'data', runbooks: [{ runbok: 'ehr-db' }] }]));
  expect(issues).toContainEqual({
    path: 'waves[0].runbooks[0]',
    message: 'unknown field runbok; did you mean "runbook"?; allowed here: runbook, dependsOn',
  });
});

test('loading an evacuation naming a runbook the catalog lacks refuses it at its path, listing the known ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  writeFileSync(
    join(dir, 'east.json'),
    JSON.stringify(base([{ id: 'data', runbooks: ['ehr-db', 'no-such-runbook'] }])),
  );
  const error = loadRefusal('leave-east', dir);
  expect(error.issues).toEqual([
    {
      path: 'waves[0].runbooks[1]',
      message: expect.stringMatching(/no runbook "no-such-runbook"; known runbooks: .*ehr-db/),
    },
  ]);
});

test('every problem shows at once: a field the schema refuses does not hide a runbook in two waves, a cycle or an unknown runbook', () => {
  // Before: only waves[0].concurrency; fixing it revealed the next class of problem, then the next.
  const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  writeFileSync(
    join(dir, 'many.json'),
    JSON.stringify(
      base([
        {
          id: 'data',
          concurrency: 0,
          runbooks: [
            { runbook: 'ehr-db', dependsOn: ['patient-portal-rds'] },
            { runbook: 'patient-portal-rds', dependsOn: ['ehr-db'] },
            'no-such-runbook',
          ],
        },
        { id: 'apps', runbooks: ['no-such-runbook'] },
      ]),
    ),
  );
  const error = loadRefusal('leave-east', dir);
  const issues = error.issues;
  expect(issues.map((issue) => issue.path)).toEqual(
    expect.arrayContaining([
      'waves[0].concurrency',
      'waves[1].runbooks[0]',
      'waves[0].runbooks[0].dependsOn',
      'waves[0].runbooks[2]',
    ]),
  );
  expect(issues.find((issue) => issue.path === 'waves[1].runbooks[0]')?.message).toMatch(
    /already in waves\[0\]/,
  );
  expect(issues.find((issue) => issue.message.startsWith('dependency cycle'))).toBeDefined();
  expect(issues.find((issue) => issue.path === 'waves[0].runbooks[2]')?.message).toMatch(
    /no runbook "no-such-runbook"/,
  );
});

test('every problem shows at once in a TypeScript evacuation written with defineEvacuation too', () => {
  // defineEvacuation throws while the module loads: the waves it read travel with its error to the catalog check.
  const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  const define = resolve(__dirname, '../../evacuations/define-evacuation');
  writeFileSync(
    join(dir, 'typed.ts'),
    `import { defineEvacuation } from ${JSON.stringify(define)};\n` +
      `export default defineEvacuation(${JSON.stringify(
        base([{ id: 'data', concurrency: 0, runbooks: ['ehr-db', 'no-such-runbook'] }], { id: 'typed' }),
      )});\n`,
  );
  const error = loadRefusal('typed', dir);
  expect(error.issues.map((issue) => issue.path)).toEqual(['waves[0].concurrency', 'waves[0].runbooks[1]']);
});

test('a runbook file named by path is not taken for an evacuation: plan and failover of ./my-runbook.json still reach the runbook catalog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  const runbookFile = join(dir, 'ehr-db.json');
  writeFileSync(runbookFile, JSON.stringify({ id: 'ehr-db', title: 'a runbook', steps: [] }));
  expect(findEvacuation(runbookFile, [])).toBeUndefined();
  const evacuationFile = join(dir, 'east.json');
  writeFileSync(evacuationFile, JSON.stringify(base([{ id: 'data', runbooks: ['ehr-db'] }])));
  expect(findEvacuation(evacuationFile, [])?.evacuation.id).toBe('leave-east');
});

test("the bundled example loads with its runbooks, and its hash changes with any runbook's content", () => {
  const loaded = findEvacuation('us-east-1', []);
  expect(loaded?.evacuation.waves.map((wave) => wave.id)).toEqual(['databases', 'portal']);
  expect(Object.keys(loaded?.runbooks ?? {}).sort()).toEqual(['ehr-db', 'patient-portal-rds']);
  const cover = {
    evacuation: loaded!.evacuation,
    runbookHashes: { 'ehr-db': 'a', 'patient-portal-rds': 'b' },
  };
  expect(evacuationSha256(cover)).toBe(evacuationSha256(structuredClone(cover)));
  expect(evacuationSha256({ ...cover, runbookHashes: { ...cover.runbookHashes, 'ehr-db': 'c' } })).not.toBe(
    evacuationSha256(cover),
  );
});

/** A runbook that switches `records` CNAMEs of its own zone to its promoted replica (~70 bytes a record). */
function largeRunbook(id: string, records: number) {
  return {
    id,
    title: `${id}: leave us-east-1`,
    owner: 'evacuation-size-test',
    objectives: { rto: '30m', rpo: '5m' },
    targets: {
      databases: {
        main: {
          provider: 'rds-instance',
          primary: { instanceId: `${id}-primary`, region: 'us-east-1' },
          replica: { instanceId: `${id}-replica`, region: 'us-west-2' },
          fenceSecurityGroup: 'drctl-fence-deny-all',
        },
      },
    },
    steps: [
      { id: 'fence', kind: 'database.fence', database: 'main' },
      { id: 'promote', kind: 'database.promote', database: 'main' },
      {
        id: 'switch-dns',
        kind: 'dns.switch',
        zone: { name: `${id}.example.internal.` },
        records: Array.from({ length: records }, (_, r) => ({
          name: `host-${r}.${id}.example.internal.`,
          type: 'CNAME',
          ttl: 60,
          pointTo: { database: 'main', member: 'replica' },
        })),
      },
    ],
  };
}

/** A catalog of 12 runbooks of 2,000 records each (~1.9 MiB by value), with evacuations of all and of 4. */
function largeEstate(): { dir: string; ids: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  const ids = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
  for (const id of ids) writeFileSync(join(dir, `${id}.json`), JSON.stringify(largeRunbook(id, 2000)));
  writeFileSync(join(dir, 'big.json'), JSON.stringify(base([{ id: 'all', runbooks: ids }], { id: 'big' })));
  writeFileSync(
    join(dir, 'small.json'),
    JSON.stringify(base([{ id: 'some', runbooks: ids.slice(0, 4) }], { id: 'small' })),
  );
  return { dir, ids };
}

const TOO_LARGE =
  /its 12 runbooks come to \d+ KiB by value \(largest: svc-\d+ \d+ KiB.*\); a run carries them in one Temporal payload, which must stay at most 1536 KiB .*split it into smaller evacuations/;

test('an evacuation whose runbooks by value pass one Temporal payload is refused at waves, naming its size and what to do; a smaller one loads', () => {
  const { dir } = largeEstate();

  const error = loadRefusal('big', dir, [dir]);
  const small = findEvacuation('small', [dir], [dir]);

  expect(error.issues).toEqual([
    { path: 'waves', message: expect.stringMatching(new RegExp(`^${TOO_LARGE.source}`)) },
  ]);
  expect(Buffer.byteLength(JSON.stringify(small))).toBeLessThan(MAX_EVACUATION_BYTES);
  expect(Object.keys(small?.runbooks ?? {})).toHaveLength(4);
});

test("the worker's load of a reviewed evacuation too large for one payload fails permanently with the same words, before Temporal would refuse its result", async () => {
  const { dir, ids } = largeEstate();
  const { runbooks } = loadReviewedCatalog([dir]);
  const activities = createAuthActivities({ catalogDirs: [dir], evacuationDirs: [dir] });
  const cover = {
    evacuation: defineEvacuation(base([{ id: 'all', runbooks: ids }], { id: 'big' }) as never),
    runbookHashes: Object.fromEntries(ids.map((id) => [id, runbooks.get(id)!.sha256])),
  };

  const refused = await activities
    .loadReviewedEvacuation({ evacuationId: 'big', sha256: evacuationSha256(cover) })
    .then(
      () => undefined,
      (failure: unknown) => failure as Error & { type?: string; nonRetryable?: boolean },
    );

  expect(refused?.message).toMatch(TOO_LARGE);
  expect(refused?.nonRetryable).toBe(true);
});

describe('evacuations are named by the id they declare, like runbooks', () => {
  const bundled = resolve(__dirname, '../../evacuations/examples');
  const waves = [
    { id: 'databases', runbooks: ['ehr-db'] },
    { id: 'portal', runbooks: ['patient-portal-rds'] },
  ];
  /** A folder holding each `files` entry (file name → evacuation id and title) as a JSON evacuation. */
  const folder = (files: Record<string, { id: string; title: string }>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
    for (const [name, { id, title }] of Object.entries(files))
      writeFileSync(join(dir, name), JSON.stringify({ id, title, waves }));
    return dir;
  };
  /** The worker's reviewed copy of `evacuationId` from `dir`, signed over the evacuation `findEvacuation` loads. */
  const workerLoad = async (evacuationId: string, dir: string, signed = evacuationId) => {
    const { runbooks } = loadReviewedCatalog([resolve(__dirname, '../../runbooks/examples')]);
    const loaded = findEvacuation(signed, [], [dir])!;
    const cover = {
      evacuation: loaded.evacuation,
      runbookHashes: Object.fromEntries(
        Object.keys(loaded.runbooks).map((id) => [id, runbooks.get(id)!.sha256]),
      ),
    };
    const activities = createAuthActivities({
      catalogDirs: [resolve(__dirname, '../../runbooks/examples')],
      evacuationDirs: [dir],
    });
    return activities.loadReviewedEvacuation({ evacuationId, sha256: evacuationSha256(cover) });
  };
  const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:9' };

  test('GIVEN a configured folder with a file declaring the id of the bundled example WHEN that id is looked up THEN the file is used, by the CLI and the worker (before: the bundled example ran and the file was ignored without a word)', async () => {
    const dir = folder({ 'us-east-1.json': { id: 'us-east-1', title: 'Our reviewed us-east-1' } });

    const loaded = findEvacuation('us-east-1', [], [dir]);
    const reviewed = await workerLoad('us-east-1', dir);
    const cli = await runDrctl(['evacuate', 'us-east-1', '--dry-run'], {
      ...NO_TEMPORAL,
      DRCTL_EVACUATIONS_DIR: dir,
    });

    expect(loaded?.evacuation.title).toBe('Our reviewed us-east-1');
    expect(loaded?.source).toBe(join(dir, 'us-east-1.json'));
    expect(reviewed.source).toBe(join(dir, 'us-east-1.json'));
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('Evacuation us-east-1: Our reviewed us-east-1');
  });

  test('GIVEN a file whose name is not its id WHEN looked up THEN it is found by its id and not by its file name, by the CLI and the worker (before: found by file name only; its id answered "no evacuation")', async () => {
    const dir = folder({ 'base.json': { id: 'qa-evac', title: 'QA evac' } });

    const byId = findEvacuation('qa-evac', [], [dir]);
    const byName = findEvacuation('base', [], [dir]);
    const reviewed = await workerLoad('qa-evac', dir);
    const cliById = await runDrctl(['evacuate', 'qa-evac', '--dry-run'], {
      ...NO_TEMPORAL,
      DRCTL_EVACUATIONS_DIR: dir,
    });
    const cliByName = await runDrctl(['evacuate', 'base', '--dry-run'], {
      ...NO_TEMPORAL,
      DRCTL_EVACUATIONS_DIR: dir,
    });

    expect(byId?.source).toBe(join(dir, 'base.json'));
    expect(byName).toBeUndefined();
    expect(reviewed.cover.evacuation.id).toBe('qa-evac');
    expect(cliById.code).toBe(0);
    expect(cliById.stdout).toContain('Evacuation qa-evac: QA evac');
    expect(cliByName.code).toBe(2);
    expect(cliByName.stderr).toContain('no evacuation "base"');
    expect(cliByName.stderr).toContain(`${join(dir, 'base.json')} declares the id "qa-evac"`);
    expect(cliByName.stderr).toMatch(/Known evacuations: us-east-1, qa-evac\./);
  });

  test('GIVEN two configured files declaring one id WHEN that id is looked up THEN neither is used: refused at id naming both files, exit 2, by the CLI and the worker (before: the file named after the id ran, the other was ignored)', async () => {
    const dir = folder({
      'leave-east.json': { id: 'leave-east', title: 'One' },
      'leave-east-copy.json': { id: 'leave-east', title: 'Two' },
    });
    const other = folder({ 'us-east-1.json': { id: 'us-east-1', title: 'Ours' } });
    const more = folder({ 'east.json': { id: 'us-east-1', title: 'Ours too' } });

    const refusal = loadRefusal('leave-east', dir);
    const acrossFolders = (() => {
      try {
        findEvacuation('us-east-1', [], [other, more]);
      } catch (error) {
        return error as EvacuationValidationError;
      }
      return undefined;
    })();
    const activities = createAuthActivities({
      catalogDirs: [resolve(__dirname, '../../runbooks/examples')],
      evacuationDirs: [dir],
    });
    const workerRefusal = await activities
      .loadReviewedEvacuation({ evacuationId: 'leave-east', sha256: 'x' })
      .then(
        () => undefined,
        (failure: unknown) => failure as Error & { nonRetryable?: boolean },
      );
    const cli = await runDrctl(['evacuate', 'leave-east', '--dry-run'], {
      ...NO_TEMPORAL,
      DRCTL_EVACUATIONS_DIR: dir,
    });

    const both = [join(dir, 'leave-east-copy.json'), join(dir, 'leave-east.json')];
    expect(refusal.issues).toEqual([
      { path: 'id', message: expect.stringContaining(`${both[0]} and ${both[1]}`) },
    ]);
    expect(acrossFolders?.issues[0]?.message).toContain(
      `${join(other, 'us-east-1.json')} and ${join(more, 'east.json')}`,
    );
    expect(workerRefusal?.message).toContain(`${both[0]} and ${both[1]}`);
    expect(workerRefusal?.nonRetryable).toBe(true);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`id: evacuation id "leave-east" is declared by ${both[0]} and ${both[1]}`);
  });

  test('GIVEN a configured file named after the bundled example that does not load WHEN that id is looked up THEN its load error is said, never the example run (before: the example ran)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
    writeFileSync(join(dir, 'us-east-1.json'), '{ "id": "us-east-1", ');

    const refusal = loadRefusal('us-east-1', dir);
    const cli = await runDrctl(['evacuate', 'us-east-1', '--dry-run'], {
      ...NO_TEMPORAL,
      DRCTL_EVACUATIONS_DIR: dir,
    });

    expect(refusal.message).toContain(join(dir, 'us-east-1.json'));
    expect(refusal.issues).toEqual([{ path: '(file)', message: expect.stringMatching(/^not valid JSON/) }]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('not valid JSON');
  });

  test('GIVEN the bundled examples folder or one folder twice among the configured ones WHEN listed and looked up THEN each file counts once (before: "Known evacuations" named us-east-1 twice)', async () => {
    const dir = folder({ 'leave-east.json': { id: 'leave-east', title: 'Leave east' } });

    const loaded = findEvacuation('us-east-1', [], [bundled, dir, dir]);
    const cli = await runDrctl(['evacuate', 'nope', '--dry-run'], {
      ...NO_TEMPORAL,
      // The CLI runs from dist/: its own bundled folder.
      DRCTL_EVACUATIONS_DIR: [resolve(__dirname, '../../dist/evacuations/examples'), dir, dir].join(':'),
    });

    expect(loaded?.evacuation.title).toBe('Evacuate us-east-1 to us-west-2');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/Known evacuations: us-east-1, leave-east\./);
  });
});
