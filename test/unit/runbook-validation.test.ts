import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRunbook, loadCatalog } from '../../runbooks/catalog';
import { defineRunbook } from '../../runbooks/define-runbook';
import { RunbookValidationError, type RunbookIssue } from '../../runbooks/runbook-validation-error';
import ehrDb from '../../runbooks/examples/ehr-db';
import { runbookWarnings } from '../../runbooks/runbook-warnings';
import { terminalSafe } from '../../cli/terminal-safe';

/** Validation that catches, before anything starts, what would otherwise fail (or mislead) mid-run. */
function base(steps: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id: 'validation-test',
    title: 'validation',
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
    targets: {
      databases: {
        db: {
          provider: 'postgres',
          primary: { connection: 'p', endpoint: '10.0.0.2' },
          replica: { connection: 'r', endpoint: '10.0.0.3' },
          applicationRoles: ['ehr_app'],
        },
      },
    },
    steps,
    ...extra,
  };
}

function issuesOf(input: unknown): RunbookIssue[] {
  try {
    defineRunbook(input as Parameters<typeof defineRunbook>[0]);
    return [];
  } catch (error) {
    if (error instanceof RunbookValidationError) return error.issues;
    throw error;
  }
}

const wait = { id: 'settle', kind: 'wait', duration: '1s' };

describe('durations and retry policies Temporal would refuse mid-run', () => {
  test('GIVEN a zero timeout THEN it is refused at its path (the run would wedge)', () => {
    expect(issuesOf(base([{ ...wait, timeout: '0s' }]))).toContainEqual({
      path: 'steps[0].timeout',
      message: expect.stringMatching(/at least 1ms.*Temporal refuses a zero timeout/),
    });
  });

  test('GIVEN a sub-millisecond timeout THEN it is refused too', () => {
    expect(issuesOf(base([{ ...wait, timeout: '0.2ms' }]))[0]?.path).toBe('steps[0].timeout');
  });

  test('GIVEN initialInterval above maximumInterval THEN the retry policy is refused', () => {
    expect(
      issuesOf(base([{ ...wait, retry: { initialInterval: '1m', maximumInterval: '10s' } }])),
    ).toContainEqual({
      path: 'steps[0].retry.initialInterval',
      message: expect.stringMatching(/not be longer than maximumInterval \(1m > 10s\)/),
    });
  });

  test('GIVEN a zero retry interval THEN it is refused', () => {
    expect(issuesOf(base([{ ...wait, retry: { initialInterval: '0ms' } }]))[0]?.path).toBe(
      'steps[0].retry.initialInterval',
    );
  });

  test('GIVEN a wait longer than a year THEN it is refused', () => {
    expect(issuesOf(base([{ ...wait, duration: '400d' }]))[0]).toEqual({
      path: 'steps[0].duration',
      message: expect.stringMatching(/at most 366d|at most/),
    });
  });
});

describe('warnings: valid, but endangering the objectives', () => {
  test('GIVEN a 2h step timeout under a 5m RTO THEN a warning names the step', () => {
    const runbook = defineRunbook(base([{ ...wait, timeout: '2h' }]) as Parameters<typeof defineRunbook>[0]);
    expect(runbookWarnings(runbook)).toContainEqual({
      path: 'steps[0].timeout',
      message: expect.stringMatching(/2h is longer than the RTO objective \(5m\)/),
    });
  });

  test('GIVEN a maxLag beyond the RPO THEN pre-flight accepting it is a warning', () => {
    const input = base([wait]);
    (input.targets.databases.db as Record<string, unknown>).maxLag = '5m';
    const runbook = defineRunbook(input as Parameters<typeof defineRunbook>[0]);
    expect(runbookWarnings(runbook).map((w) => w.path)).toContain('targets.databases.db.maxLag');
  });

  test('GIVEN the flagship ehr-db (a 26h backup age under a 1m RPO) THEN there is no warning: the replica is the recovery path', () => {
    expect(runbookWarnings(ehrDb)).toEqual([]);
  });

  test('GIVEN timeouts within the RTO THEN there is no warning', () => {
    const runbook = defineRunbook(base([{ ...wait, timeout: '1m' }]) as Parameters<typeof defineRunbook>[0]);
    expect(runbookWarnings(runbook)).toEqual([]);
  });
});

describe('paths and suggestions', () => {
  test('GIVEN a typo in a kind THEN the nearest kind is suggested', () => {
    expect(issuesOf(base([{ id: 'dns', kind: 'dns.swtich' }]))).toContainEqual({
      path: 'steps[0].kind',
      message: expect.stringMatching(/got the string "dns.swtich"\); did you mean "dns.switch"\?; allowed:/),
    });
  });

  test('GIVEN a word far from every kind THEN no suggestion is made', () => {
    const [issue] = issuesOf(base([{ id: 'x', kind: 'reboot' }]));
    expect(issue?.message).not.toMatch(/did you mean/);
  });

  test('GIVEN a duplicate id inside a parallel group THEN the problem is reported at the inner step', () => {
    const issues = issuesOf(
      base([
        wait,
        {
          id: 'group',
          kind: 'parallel',
          steps: [
            { id: 'a', kind: 'wait', duration: '1s' },
            { id: 'settle', kind: 'wait', duration: '1s' },
          ],
        },
      ]),
    );
    expect(issues).toEqual([
      { path: 'steps[1].steps[1].id', message: '"settle" is already used by steps[0]' },
    ]);
  });
});

describe("every problem in one report, the schema's and the cross-checks'", () => {
  const fence = { id: 'fence', kind: 'database.fence', database: 'db' };
  const promote = { id: 'promote', kind: 'database.promote', database: 'db' };

  test('GIVEN an unknown kind and a too-short wait beside a duplicate id and an undeclared database THEN all four are reported (before: only the first two; the others showed once those were fixed)', () => {
    const issues = issuesOf(
      base([
        { id: 'checks', kind: 'preflight' },
        { id: 'flags-on', kind: 'flag.set', flags: [] },
        { ...fence, id: 'checks' },
        { ...promote, database: 'nope' },
        { ...wait, duration: '0.4ms' },
      ]),
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      'steps[1].kind',
      'steps[2].id',
      'steps[3].database',
      'steps[4].duration',
    ]);
    expect(issues[1]?.message).toBe('"checks" is already used by steps[0]');
    expect(issues[2]?.message).toBe('no database "nope" in targets.databases (declared: db)');
  });

  test('GIVEN a step the schema refuses THEN its id still counts: a later step with the same id is reported (before: only the refused field)', () => {
    const issues = issuesOf(
      base([
        { ...wait, duration: 'soon' },
        { ...wait, duration: '1s' },
      ]),
    );
    expect(issues).toEqual([
      { path: 'steps[0].duration', message: expect.stringMatching(/duration such as/) },
      { path: 'steps[1].id', message: '"settle" is already used by steps[0]' },
    ]);
  });

  test("GIVEN a fence the schema refuses THEN the promotion after it is not also refused for want of a fence, while a problem of another step is reported (before: only the fence's timeout)", () => {
    const issues = issuesOf(
      base([{ ...fence, timeout: '0s' }, promote, { ...promote, id: 'other', database: 'nope' }]),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['steps[0].timeout', 'steps[2].database']);
  });

  test('GIVEN a misspelt kind THEN the steps after it are not refused for an order it may be the fix of', () => {
    const issues = issuesOf(base([{ ...fence, kind: 'database.fense' }, promote]));
    expect(issues.map((issue) => issue.path)).toEqual(['steps[0].kind']);
  });

  test("GIVEN a database target the schema refuses THEN a step naming it is not called undeclared, while one naming no target is (before: only the target's problems)", () => {
    const issues = issuesOf(
      base([fence, promote, { ...promote, id: 'ghost', database: 'ghost' }], {
        targets: { databases: { db: { provider: 'postgres', primary: {} } } },
      }),
    );
    expect(issues.some((issue) => issue.path.startsWith('targets.databases.db'))).toBe(true);
    expect(issues.filter((issue) => issue.path.startsWith('steps'))).toEqual([
      {
        path: 'steps[2].database',
        message: expect.stringMatching(/^no database "ghost" in targets\.databases/),
      },
    ]);
  });

  test('GIVEN a parallel group with a refused inner step THEN a duplicate id among its other steps is reported (before: only the refused field)', () => {
    const issues = issuesOf(
      base([
        wait,
        {
          id: 'group',
          kind: 'parallel',
          steps: [
            { id: 'a', kind: 'wait', duration: 'never' },
            { id: 'settle', kind: 'wait', duration: '1s' },
          ],
        },
      ]),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['steps[1].steps[0].duration', 'steps[1].steps[1].id']);
  });
});

describe('text a person reads must hold text', () => {
  test.each([
    ['a title', { title: '   ' }, 'title'],
    ['an owner', { owner: '\t ' }, 'owner'],
    ['a step title', {}, 'steps[0].title'],
    ["an approval gate's prompt", {}, 'steps[0].prompt'],
  ])('GIVEN %s of only spaces THEN it is refused at its path (before: accepted)', (_what, extra, path) => {
    const steps =
      path === 'steps[0].title'
        ? [{ ...wait, title: '  ' }]
        : path === 'steps[0].prompt'
          ? [{ id: 'gate', kind: 'approval', prompt: '  ' }]
          : [wait];
    expect(issuesOf(base(steps, extra))).toEqual([
      { path, message: expect.stringMatching(/^must hold text, not only spaces \(got "/) },
    ]);
  });

  test('GIVEN an empty title THEN it is refused as empty, once', () => {
    expect(issuesOf(base([wait], { title: '' }))).toEqual([{ path: 'title', message: 'must not be empty' }]);
  });
});

describe('inline secrets are refused with a pointer to named connections', () => {
  test.each([
    [
      'a URL with a password',
      { description: 'connect with postgres://app:s3cretpass@10.0.0.2/ehr' },
      'description',
    ],
    ['a password setting', { description: 'use password=hunter22 for the app role' }, 'description'],
    ['an AWS access key id', { title: 'key AKIAIOSFODNN7EXAMPLE' }, 'title'],
    ['an Unleash API token', { description: 'token *:*.0123456789abcdef0123456789abcdef' }, 'description'],
  ])('GIVEN %s THEN validation refuses it at its path, without echoing it', (what, extra, path) => {
    const issues = issuesOf(base([wait], extra));
    const issue = issues.find((i) => i.path === path);
    expect(issue?.message).toMatch(new RegExp(`looks like ${what}.*name a connection`));
    expect(issue?.message).not.toMatch(/s3cretpass|hunter22|AKIAIOSFODNN7EXAMPLE|0123456789abcdef/);
  });

  test('GIVEN a password inside a probe connection field THEN it is refused there', () => {
    const issues = issuesOf(
      base([
        { id: 'probe', kind: 'probe', probe: { type: 'sql', connection: 'postgresql://u:pw12345@h/db' } },
      ]),
    );
    expect(issues.map((i) => i.path)).toContain('steps[0].probe.connection');
  });

  test('GIVEN ordinary prose about tokens THEN nothing is refused', () => {
    expect(issuesOf(base([wait], { description: 'rotate the token: weekly, see the wiki' }))).toEqual([]);
  });
});

describe('the catalog isolates broken files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-catalog-'));
  writeFileSync(join(dir, 'good.json'), JSON.stringify(base([wait], { id: 'good-one' })));
  writeFileSync(join(dir, 'throws.ts'), "throw new Error('boom at import');\n");
  writeFileSync(join(dir, 'syntax.ts'), 'export default {{{ ;\n');
  writeFileSync(
    join(dir, 'invalid.json'),
    JSON.stringify(base([{ ...wait, timeout: '0s' }], { id: 'invalid-one' })),
  );

  test('GIVEN broken files beside a good one THEN the good one loads and each broken one is listed with its path', () => {
    const { entries, broken } = loadCatalog([dir]);
    expect(entries.map((e) => e.runbook.id)).toContain('good-one');
    expect(broken.map((b) => b.source).sort()).toEqual(
      [join(dir, 'invalid.json'), join(dir, 'syntax.ts'), join(dir, 'throws.ts')].sort(),
    );
    expect(broken.find((b) => b.source.endsWith('throws.ts'))?.message).toMatch(/boom at import/);
  });

  test('GIVEN a broken file THEN finding another runbook still works', () => {
    expect(findRunbook('good-one', [dir]).runbook.id).toBe('good-one');
  });

  test('GIVEN a reference to a file that throws on import THEN the error names the file', () => {
    expect(() => findRunbook(join(dir, 'throws.ts'), [dir])).toThrow(
      new RegExp(`${join(dir, 'throws.ts')}[\\s\\S]*boom at import`),
    );
  });

  test('GIVEN a reference to a file with a syntax error THEN the error names the file', () => {
    expect(() => findRunbook('syntax', [dir])).toThrow(new RegExp(join(dir, 'syntax.ts')));
  });

  test('GIVEN the path of a folder THEN the error says it is a directory and names its runbook files (before: "there is no such file")', () => {
    expect(() => findRunbook(dir, [dir])).toThrow(
      new RegExp(
        `no runbook file "${dir}": ${dir} is a directory, not a runbook file\\. Name one runbook file in it \\(.*good\\.json`,
      ),
    );
  });

  test('GIVEN an existing file of another type THEN the error names its type and the supported ones (before: "there is no such file")', () => {
    const yaml = join(dir, 'billing.yaml');
    writeFileSync(yaml, 'id: billing\n');
    expect(() => findRunbook(yaml, [dir])).toThrow(
      /is a \.yaml file, and drctl reads runbooks from \.ts, \.js and \.json files only/,
    );
  });

  test('GIVEN an unknown id THEN the error lists the known runbooks and the broken files', () => {
    expect(() => findRunbook('nope', [dir])).toThrow(
      /Known runbooks: .*good-one.*Broken runbook files .*throws\.ts/s,
    );
  });
});

describe('stored text on the terminal', () => {
  test('GIVEN escape codes and newlines THEN they are shown escaped on one line', () => {
    expect(terminalSafe('ok\x1b[2J\x1b[31mred\nfake line\r\x07')).toBe(
      'ok\\x1b[2J\\x1b[31mred\\nfake line\\r\\x07',
    );
  });
});
