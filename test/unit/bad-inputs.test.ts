import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineRunbook } from '../../runbooks/define-runbook';
import { RunbookValidationError } from '../../runbooks/runbook-validation-error';
import type { RunbookInput } from '../../runbooks/schema';
import { runDrctl } from './run-drctl';

/**
 * The catalogue of bad inputs: every one gets one clear message naming the field (its path) and what is
 * allowed there, the documented exit code (2, bad input), no stack trace, and nothing is contacted or changed.
 * Runbook problems go through the real `bin/drctl validate <file>` (JSON and TypeScript runbook files) and
 * through `defineRunbook` directly; option problems through the real CLI of each command.
 */

const DEFINE_RUNBOOK = resolve(__dirname, '../../runbooks/define-runbook');
const STACK_TRACE = /\n\s+at /;
/** Where nothing listens: a command that reached Temporal would exit 3, not 2. */
const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:9' };

const drctl = (args: string[], env: NodeJS.ProcessEnv = {}) => runDrctl(args, { ...NO_TEMPORAL, ...env });

const dir = mkdtempSync(join(tmpdir(), 'drctl-bad-inputs-'));

const base = {
  id: 'svc-db',
  title: 'Service database',
  owner: 'oncall',
  objectives: { rto: '15m', rpo: '1m' },
  targets: {
    databases: {
      main: {
        provider: 'postgres',
        primary: { connection: 'p', endpoint: '10.0.0.2' },
        replica: { connection: 'r', endpoint: '10.0.0.3' },
        applicationRoles: ['ehr_app'],
      },
    },
  },
  steps: [{ id: 'preflight', kind: 'preflight' }],
};

/** The base runbook with `step` after its pre-flight. */
function withStep(step: Record<string, unknown>): unknown {
  return { ...base, steps: [...base.steps, step] };
}
function withDatabase(target: Record<string, unknown>): unknown {
  return { ...base, targets: { databases: { main: target } } };
}
function without(field: keyof typeof base): unknown {
  const copy: Record<string, unknown> = { ...base };
  delete copy[field];
  return copy;
}
const dns = (records: unknown[], zone: unknown = { name: 'z.' }) => ({
  id: 'dns',
  kind: 'dns.switch',
  zone,
  records,
});
const promote = { id: 'promote', kind: 'database.promote', database: 'main' };
const replica = { database: 'main', member: 'replica' };
const KINDS =
  /allowed: preflight, database\.fence, database\.promote, dns\.switch, flags\.set, backups\.verify, probe, wait/;

interface RunbookCase {
  name: string;
  /** The runbook as data; `raw` is written to the file as it is. */
  input?: unknown;
  raw?: string;
  /** json: a .json file; ts: a .ts module whose default export is the plain object; define: a .ts module calling defineRunbook. */
  file: 'json' | 'ts' | 'define';
  path: string;
  message: RegExp;
}

const runbookCases: RunbookCase[] = [
  { name: 'not an object', input: 42, file: 'json', path: '', message: /must be an object with id, title/ },
  { name: 'an array', input: [], file: 'json', path: '', message: /must be an object .*got an array/ },
  {
    name: 'unknown top-level field',
    input: { ...base, colour: 'blue' },
    file: 'json',
    path: '',
    message: /unknown field colour/,
  },
  { name: 'missing id', input: without('id'), file: 'json', path: 'id', message: /^required$/ },
  { name: 'missing title', input: without('title'), file: 'ts', path: 'title', message: /^required$/ },
  { name: 'missing owner', input: without('owner'), file: 'json', path: 'owner', message: /^required$/ },
  {
    name: 'missing objectives',
    input: without('objectives'),
    file: 'define',
    path: 'objectives',
    message: /^required$/,
  },
  { name: 'missing steps', input: without('steps'), file: 'json', path: 'steps', message: /^required$/ },
  {
    name: 'bad id pattern',
    input: { ...base, id: 'EHR_DB' },
    file: 'json',
    path: 'id',
    message: /lower-case letters, digits and dashes/,
  },
  {
    name: 'empty steps',
    input: { ...base, steps: [] },
    file: 'ts',
    path: 'steps',
    message: /at least one step/,
  },
  {
    name: 'steps not a list',
    input: { ...base, steps: { preflight: {} } },
    file: 'json',
    path: 'steps',
    message: /must be an array .*got an object/,
  },
  {
    name: 'a title of only spaces (before: accepted, exit 0)',
    input: { ...base, title: '   ' },
    file: 'json',
    path: 'title',
    message: /^must hold text, not only spaces \(got "   "\)$/,
  },
  {
    name: 'an owner of only spaces (before: accepted, exit 0)',
    input: { ...base, owner: ' \t ' },
    file: 'ts',
    path: 'owner',
    message: /^must hold text, not only spaces/,
  },
  {
    name: 'unknown step kind',
    input: withStep({ id: 'x', kind: 'reboot' }),
    file: 'json',
    path: 'steps[1].kind',
    message: new RegExp(`got the string "reboot"\\); ${KINDS.source}`),
  },
  {
    name: 'step without kind',
    input: withStep({ id: 'x' }),
    file: 'json',
    path: 'steps[1].kind',
    message: new RegExp(`required; ${KINDS.source}`),
  },
  {
    name: 'duplicate step ids',
    input: withStep({ id: 'preflight', kind: 'wait', duration: '1s' }),
    file: 'define',
    path: 'steps[1].id',
    message: /"preflight" is already used by steps\[0\]/,
  },
  {
    name: 'rto "soon"',
    input: { ...base, objectives: { rto: 'soon', rpo: '1m' } },
    file: 'json',
    path: 'objectives.rto',
    message: /duration such as 250ms, 30s, 5m or 1h/,
  },
  {
    name: 'rto "5 minutes"',
    input: { ...base, objectives: { rto: '5 minutes', rpo: '1m' } },
    file: 'ts',
    path: 'objectives.rto',
    message: /duration such as 250ms, 30s, 5m or 1h/,
  },
  {
    name: 'rpo "-1s"',
    input: { ...base, objectives: { rto: '5m', rpo: '-1s' } },
    file: 'json',
    path: 'objectives.rpo',
    message: /duration such as 250ms, 30s, 5m or 1h/,
  },
  {
    name: 'rto a number',
    input: { ...base, objectives: { rto: 300, rpo: '1m' } },
    file: 'json',
    path: 'objectives.rto',
    message: /duration string such as 250ms, 30s, 5m or 1h \(got number 300\)/,
  },
  {
    name: 'timeout ""',
    input: withStep({ id: 'x', kind: 'preflight', timeout: '' }),
    file: 'json',
    path: 'steps[1].timeout',
    message: /duration such as 250ms/,
  },
  {
    name: 'wait duration a number',
    input: withStep({ id: 'x', kind: 'wait', duration: 30 }),
    file: 'json',
    path: 'steps[1].duration',
    message: /duration string such as 250ms, 30s, 5m or 1h \(got number 30\)/,
  },
  {
    name: 'retry.maximumAttempts "3"',
    input: withStep({ id: 'x', kind: 'preflight', retry: { maximumAttempts: '3' } }),
    file: 'json',
    path: 'steps[1].retry.maximumAttempts',
    message: /must be a number \(got the string "3"\)/,
  },
  {
    name: 'retry.maximumAttempts 0',
    input: withStep({ id: 'x', kind: 'preflight', retry: { maximumAttempts: 0 } }),
    file: 'define',
    path: 'steps[1].retry.maximumAttempts',
    message: /must be at least 1 \(got number 0\)/,
  },
  {
    name: 'retry.maximumAttempts 1000',
    input: withStep({ id: 'x', kind: 'preflight', retry: { maximumAttempts: 1000 } }),
    file: 'json',
    path: 'steps[1].retry.maximumAttempts',
    message: /must be at most 100 \(got number 1000\)/,
  },
  {
    name: 'retry.maximumAttempts 2.5',
    input: withStep({ id: 'x', kind: 'preflight', retry: { maximumAttempts: 2.5 } }),
    file: 'json',
    path: 'steps[1].retry.maximumAttempts',
    message: /must be a whole number/,
  },
  {
    name: 'unknown retry field',
    input: withStep({ id: 'x', kind: 'preflight', retry: { attempts: 3 } }),
    file: 'json',
    path: 'steps[1].retry',
    message: /unknown field attempts/,
  },
  {
    name: 'ttl -1',
    input: withStep(dns([{ name: 'db.z.', type: 'A', value: '10.0.0.3', ttl: -1 }])),
    file: 'json',
    path: 'steps[1].records[0].ttl',
    message: /must be at least 0 \(got number -1\)/,
  },
  {
    name: 'enabled "yes"',
    input: withStep({ id: 'f', kind: 'flags.set', flags: [{ name: 'degraded', enabled: 'yes' }] }),
    file: 'json',
    path: 'steps[1].flags[0].enabled',
    message: /must be true or false \(got the string "yes"\)/,
  },
  {
    name: 'onFailure "panic"',
    input: withStep({ id: 'x', kind: 'preflight', onFailure: 'panic' }),
    file: 'ts',
    path: 'steps[1].onFailure',
    message: /must be one of "pause", "abort", "continue" \(got the string "panic"\)/,
  },
  {
    name: 'zone with neither name nor id',
    input: withStep(dns([{ name: 'db.z.', type: 'A', value: '10.0.0.3' }], {})),
    file: 'json',
    path: 'steps[1].zone',
    message: /exactly one of name and id/,
  },
  {
    name: 'zone with both name and id',
    input: withStep(dns([{ name: 'db.z.', type: 'A', value: '10.0.0.3' }], { name: 'z.', id: 'Z1' })),
    file: 'json',
    path: 'steps[1].zone',
    message: /exactly one of name and id/,
  },
  {
    name: 'record type "MX"',
    input: withStep(dns([{ name: 'db.z.', type: 'MX', value: '10 mail.z.' }])),
    file: 'json',
    path: 'steps[1].records[0].type',
    message: /must be one of "A", "AAAA", "CNAME" \(got the string "MX"\)/,
  },
  {
    name: 'record with both pointTo and value',
    input: { ...base, steps: [promote, dns([{ name: 'db.z.', type: 'A', value: '1', pointTo: replica }])] },
    file: 'json',
    path: 'steps[1].records[0]',
    message: /exactly one of pointTo, value and values/,
  },
  {
    name: 'record with neither pointTo nor value',
    input: withStep(dns([{ name: 'db.z.', type: 'A' }])),
    file: 'define',
    path: 'steps[1].records[0]',
    message: /exactly one of pointTo, value and values/,
  },
  {
    name: 'dns.switch with no records',
    input: withStep(dns([])),
    file: 'json',
    path: 'steps[1].records',
    message: /must list at least 1 record$/,
  },
  {
    name: 'pointTo an unknown database',
    input: {
      ...base,
      steps: [
        promote,
        dns([{ name: 'db.z.', type: 'A', pointTo: { database: 'other', member: 'replica' } }]),
      ],
    },
    file: 'json',
    path: 'steps[1].records[0].pointTo.database',
    message: /no database "other" in targets\.databases \(declared: main\)/,
  },
  {
    name: 'pointTo the primary member',
    input: {
      ...base,
      steps: [promote, dns([{ name: 'db.z.', type: 'A', pointTo: { database: 'main', member: 'primary' } }])],
    },
    file: 'json',
    path: 'steps[1].records[0].pointTo',
    message: /confirmed writable: add a database\.promote step for "main" .*point at its replica/,
  },
  {
    name: 'DNS before any promotion',
    input: { ...base, steps: [dns([{ name: 'db.z.', type: 'A', pointTo: replica }]), promote] },
    file: 'ts',
    path: 'steps[0].records[0].pointTo',
    message: /add a database\.promote step for "main" before this step/,
  },
  {
    name: 'promote an unknown database',
    input: withStep({ id: 'promote', kind: 'database.promote', database: 'mian' }),
    file: 'json',
    path: 'steps[1].database',
    message: /no database "mian" in targets\.databases \(declared: main\)/,
  },
  {
    name: 'fence an unknown database',
    input: withStep({ id: 'fence', kind: 'database.fence', database: 'old' }),
    file: 'json',
    path: 'steps[1].database',
    message: /no database "old" in targets\.databases \(declared: main\)/,
  },
  {
    name: 'database provider "mysql"',
    input: withDatabase({ provider: 'mysql', primary: {}, replica: {} }),
    file: 'json',
    path: 'targets.databases.main.provider',
    message: /got the string "mysql"\); allowed: postgres, rds-instance, aurora-cluster/,
  },
  {
    name: 'database name with capitals',
    input: { ...base, targets: { databases: { Main_DB: base.targets.databases.main } } },
    file: 'json',
    path: 'targets.databases.Main_DB',
    message: /name "Main_DB" must be lower-case letters, digits and dashes/,
  },
  {
    name: 'rds target missing region',
    input: withDatabase({
      provider: 'rds-instance',
      primary: { instanceId: 'db-1' },
      replica: { instanceId: 'db-2', region: 'us-west-2' },
    }),
    file: 'json',
    path: 'targets.databases.main.primary.region',
    message: /^required$/,
  },
  {
    name: 'aurora missing targetInstanceId',
    input: withDatabase({ provider: 'aurora-cluster', clusterId: 'c1', region: 'us-east-1' }),
    file: 'define',
    path: 'targets.databases.main.targetInstanceId',
    message: /^required$/,
  },
  {
    name: 'flags.set with empty flags',
    input: withStep({ id: 'f', kind: 'flags.set', flags: [] }),
    file: 'json',
    path: 'steps[1].flags',
    message: /must list at least 1 flag$/,
  },
  {
    name: 'flag without name',
    input: withStep({ id: 'f', kind: 'flags.set', flags: [{ enabled: true }] }),
    file: 'json',
    path: 'steps[1].flags[0].name',
    message: /^required$/,
  },
  {
    name: 'backups lockMode "STRICT"',
    input: withStep({ id: 'b', kind: 'backups.verify', bucket: 'backups', lockMode: 'STRICT' }),
    file: 'json',
    path: 'steps[1].lockMode',
    message: /must be one of "COMPLIANCE", "GOVERNANCE" \(got the string "STRICT"\)/,
  },
  {
    name: 'bucket too short',
    input: withStep({ id: 'b', kind: 'backups.verify', bucket: 'ab' }),
    file: 'ts',
    path: 'steps[1].bucket',
    message: /must be at least 3 characters long \(got the string "ab"\)/,
  },
  {
    name: 'probe type "tcp"',
    input: withStep({ id: 'p', kind: 'probe', probe: { type: 'tcp', host: 'db' } }),
    file: 'json',
    path: 'steps[1].probe.type',
    message: /got the string "tcp"\); allowed: sql, http/,
  },
  {
    name: 'http probe bad url',
    input: withStep({ id: 'p', kind: 'probe', probe: { type: 'http', url: 'not a url' } }),
    file: 'json',
    path: 'steps[1].probe.url',
    message: /must be a URL such as https:\/\/.* \(got the string "not a url"\)/,
  },
  {
    name: 'sql probe missing connection',
    input: withStep({ id: 'p', kind: 'probe', probe: { type: 'sql' } }),
    file: 'json',
    path: 'steps[1].probe.connection',
    message: /^required$/,
  },
  {
    name: 'parallel group with one step',
    input: withStep({ id: 'g', kind: 'parallel', steps: [{ id: 'w', kind: 'wait', duration: '1s' }] }),
    file: 'json',
    path: 'steps[1].steps',
    message: /a parallel group needs at least 2 steps/,
  },
  {
    name: 'nested parallel',
    input: withStep({
      id: 'g',
      kind: 'parallel',
      steps: [
        { id: 'w', kind: 'wait', duration: '1s' },
        { id: 'h', kind: 'parallel', steps: [] },
      ],
    }),
    file: 'json',
    path: 'steps[1].steps[1].kind',
    message: /parallel groups cannot nest; allowed inside a group: preflight, /,
  },
  {
    name: 'a .ts module with no default export',
    raw: 'export const notARunbook = 1;\n',
    file: 'ts',
    path: '(module)',
    message: /exports no runbook: add `export default defineRunbook/,
  },
];

function writeCase(testCase: RunbookCase, index: number): string {
  const extension = testCase.file === 'json' ? 'json' : 'ts';
  const file = join(dir, `case-${index}.${extension}`);
  const data = JSON.stringify(testCase.input, null, 2);
  const text =
    testCase.raw ??
    (testCase.file === 'json'
      ? data
      : testCase.file === 'ts'
        ? `export default ${data};\n`
        : `import { defineRunbook } from ${JSON.stringify(DEFINE_RUNBOOK)};\n` +
          `export default defineRunbook(${data} as never);\n`);
  writeFileSync(file, text);
  return file;
}

const numbered = runbookCases.map((testCase, index) => ({ ...testCase, index }));

describe('defineRunbook names the field and what is allowed', () => {
  test.each(numbered.filter((c) => c.raw === undefined))('$name', ({ input, path, message }) => {
    let issues: Array<{ path: string; message: string }> | undefined;
    try {
      defineRunbook(input as RunbookInput);
    } catch (error) {
      expect(error).toBeInstanceOf(RunbookValidationError);
      issues = (error as RunbookValidationError).issues;
    }
    expect(issues).toBeDefined();
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

describe('drctl validate <file> exits 2 with the path and what is allowed', () => {
  // Odd cases ask for --output json, even ones read the text on stderr: both forms are covered.
  test.concurrent.each(numbered)(
    '$name ($file)',
    async (testCase) => {
      const file = writeCase(testCase, testCase.index);
      const json = testCase.index % 2 === 1;
      const result = await drctl(['validate', file, ...(json ? ['--output', 'json'] : [])]);
      expect(result.code).toBe(2);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(STACK_TRACE);
      if (json) {
        expect(result.stderr).toBe('');
        const { error } = JSON.parse(result.stdout) as {
          error: {
            code: string;
            message: string;
            details: { issues: Array<{ path: string; message: string }> };
          };
        };
        expect(error.code).toBe('RunbookInvalid');
        expect(error.details.issues).toContainEqual({
          path: testCase.path,
          message: expect.stringMatching(testCase.message),
        });
      } else {
        expect(result.stdout).toBe('');
        const lines = result.stderr.split('\n').map((line) => line.trim());
        const shownPath = testCase.path || '(root)';
        const line = lines.find((candidate) => candidate.startsWith(`${shownPath}: `));
        expect(line).toBeDefined();
        expect(line!.slice(shownPath.length + 2)).toMatch(testCase.message);
      }
    },
    60_000,
  );
});

describe('a runbook whose field names carry terminal escapes', () => {
  test('is refused with them shown escaped, not obeyed', async () => {
    // Before: "unknown field ^[[2Jdatabse" reached the terminal raw (ESC [2J clears the screen).
    const file = join(dir, 'escapes.json');
    writeFileSync(
      file,
      JSON.stringify({
        id: 'escapes',
        title: 'escapes',
        owner: 'tests',
        objectives: { rto: '15m', rpo: '1m' },
        targets: {},
        steps: [{ id: 'wait', kind: 'wait', duration: '1s', '\u001b[2Jdatabse': 'x' }],
      }),
    );
    const result = await drctl(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).toContain('\\x1b[2Jdatabse');
  });
});

describe('malformed JSON', () => {
  const file = join(dir, 'malformed.json');
  writeFileSync(file, '{"id": "x",');

  test('is one message without a stack trace, and nothing runs', async () => {
    const result = await drctl(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not valid JSON/);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(STACK_TRACE);
  });

  test('exits 2 naming the file and that it is not valid JSON', async () => {
    const result = await drctl(['validate', file, '--output', 'json']);
    expect(result.code).toBe(2);
    const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('RunbookInvalid');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not valid JSON/);
  });
});

describe('drctl validate of a runbook with several kinds of problem', () => {
  test('lists every one in one report (before: "(2 problems)", the duplicate id and the undeclared database hidden until those were fixed)', async () => {
    const file = join(dir, 'several.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...base,
        steps: [
          { id: 'preflight', kind: 'preflight' },
          { id: 'flags-on', kind: 'flag.set', flags: [{ name: 'maintenance', enabled: true }] },
          { id: 'preflight', kind: 'database.fence', database: 'main' },
          { id: 'promote', kind: 'database.promote', database: 'nope' },
          { id: 'settle', kind: 'wait', duration: '0.4ms' },
        ],
      }),
    );
    const result = await drctl(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`runbook svc-db (${file}) is invalid (4 problems):`);
    expect(result.stderr).toMatch(
      /steps\[1\]\.kind: unknown value \(got the string "flag\.set"\); did you mean/,
    );
    expect(result.stderr).toContain('steps[2].id: "preflight" is already used by steps[0]');
    expect(result.stderr).toContain(
      'steps[3].database: no database "nope" in targets.databases (declared: main)',
    );
    expect(result.stderr).toMatch(/steps\[4\]\.duration: must be at least 1ms/);
  }, 60_000);
});

describe('an evacuation file given to validate', () => {
  const evacuation = (name: string, waves: unknown[]) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ id: name, title: name, waves }));
    return file;
  };

  test('is validated as an evacuation (before: as a runbook, "unknown field waves"), its runbooks looked up', async () => {
    const good = await drctl(['validate', evacuation('leave-east', [{ id: 'data', runbooks: ['ehr-db'] }])]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^leave-east is a valid evacuation \(1 wave, 1 runbook/);

    const zero = await drctl([
      'validate',
      evacuation('zero-east', [{ id: 'data', runbooks: ['ehr-db'], concurrency: 0 }]),
      '--output',
      'json',
    ]);
    expect(zero.code).toBe(2);
    const { error } = JSON.parse(zero.stdout) as { error: { details: { issues: Array<{ path: string }> } } };
    expect(error.details.issues.map((issue) => issue.path)).toEqual(['waves[0].concurrency']);

    const ghost = await drctl([
      'validate',
      evacuation('ghost-east', [{ id: 'data', runbooks: ['ghost-db'] }]),
    ]);
    expect(ghost.code).toBe(2);
    expect(ghost.stderr).toContain('waves[0].runbooks[0]: no runbook "ghost-db"');
  });

  test.each([
    ['validate', (file: string) => ['validate', file]],
    ['plan', (file: string) => ['plan', file]],
    ['drill run', (file: string) => ['drill', 'run', file, '--reason', 'x']],
  ])(
    'copied out of drctl, the shipped example given to %s is an evacuation that says how to write it (before: "runbook … is invalid")',
    async (_command, args) => {
      const copied = join(mkdtempSync(join(tmpdir(), 'drctl-copied-')), 'leave-east.ts');
      copyFileSync(resolve(__dirname, '../../evacuations/examples/us-east-1.ts'), copied);
      const result = await drctl(args(copied));
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`evacuation ${copied} is invalid`);
      expect(result.stderr).toContain("Cannot find module '../define-evacuation'");
      expect(result.stderr).toContain("Outside drctl's folder, export the plain object");
    },
  );
});

/** A runbook written in a format drctl does not read, and a folder of runbooks: both exist. */
const yamlRunbook = join(dir, 'billing.yaml');
writeFileSync(yamlRunbook, 'id: billing\n');
const runbookFolder = mkdtempSync(join(tmpdir(), 'drctl-runbook-folder-'));
writeFileSync(join(runbookFolder, 'billing.json'), JSON.stringify({ ...base, id: 'billing' }));

interface CommandCase {
  name: string;
  args: string[];
  /** Text every operator needs to read: the option or field, and what is allowed. */
  says: RegExp[];
  code?: number;
}

const commandCases: CommandCase[] = [
  {
    name: 'failover of an unknown runbook lists the known ones',
    args: ['failover', 'ehr-dbb', '--reason', 'INC-1'],
    says: [/no runbook "ehr-dbb"/, /Known runbooks: .*ehr-db/, /path to a \.ts, \.js or \.json runbook/],
  },
  {
    name: 'plan of an unknown runbook lists the known ones',
    args: ['plan', 'nope'],
    says: [/no runbook "nope"/, /Known runbooks: .*ehr-db.*patient-portal-rds/],
  },
  {
    name: 'validate of an unknown runbook lists the known ones',
    args: ['validate', 'nope'],
    says: [/no runbook "nope"/, /Known runbooks: .*ehr-db/],
  },
  {
    // Before: 'no runbook "/tmp/…/nonexist.json"', as if it were a mistyped id.
    name: 'validate of a runbook file that does not exist says there is no such file',
    args: ['validate', '/tmp/drctl-no-such-dir/nonexist.json'],
    says: [/no runbook file "\/tmp\/drctl-no-such-dir\/nonexist\.json": there is no such file/],
  },
  {
    // Before: 'there is no such file', of a file that is there.
    name: 'validate of an existing .yaml file says drctl does not read that type, and which it reads',
    args: ['validate', yamlRunbook],
    says: [
      new RegExp(`no runbook file "${yamlRunbook}": ${yamlRunbook} is a \\.yaml file`),
      /reads runbooks from \.ts, \.js and \.json files only/,
    ],
  },
  {
    // Before: 'there is no such file', of a folder that is there.
    name: 'validate of a folder says it is a directory and names the runbook file in it',
    args: ['validate', runbookFolder],
    says: [
      new RegExp(`no runbook file "${runbookFolder}": ${runbookFolder} is a directory, not a runbook file`),
      new RegExp(`Name one runbook file in it \\(${join(runbookFolder, 'billing.json')}\\)`),
    ],
  },
  {
    name: 'failover without --reason',
    args: ['failover', 'ehr-db'],
    says: [/--reason is required/, /an incident id, a drill name/],
  },
  {
    name: 'failover with an empty --reason',
    args: ['failover', 'ehr-db', '--reason', '  '],
    says: [/--reason is required/],
  },
  {
    name: 'an unknown option',
    args: ['failover', 'ehr-db', '--reasn', 'INC-1'],
    says: [/unknown option '--reasn'/, /--reason <text>/],
  },
  {
    name: 'drill run with a bad --canary-interval',
    args: ['drill', 'run', 'ehr-db', '--reason', 'drill', '--canary-interval', 'fast'],
    says: [/--canary-interval must be a duration such as 100ms, 2s or 1m, not "fast"/],
  },
  {
    name: 'drill run with a bad --warmup',
    args: ['drill', 'run', 'ehr-db', '--reason', 'drill', '--warmup', '-2s'],
    says: [/--warmup must be a duration such as 100ms, 2s or 1m, not "-2s"/],
  },
  {
    name: 'drill run with --action nonsense',
    args: ['drill', 'run', 'ehr-db', '--reason', 'drill', '--action', 'nonsense'],
    says: [/--action <action>/, /'nonsense' is invalid/, /fence-primary, stop-primary/],
  },
  {
    name: 'drill run without --reason',
    args: ['drill', 'run', 'ehr-db'],
    says: [/--reason is required/],
  },
  {
    name: 'report with --format pdf',
    args: ['report', 'drill-ehr-db-20261127-0900', '--format', 'pdf'],
    says: [/--format <format>/, /'pdf' is invalid/, /md, html, json, junit/],
  },
  {
    name: 'decide with a bad action',
    args: ['decide', 'failover-ehr-db-20261127-0815', 'fence-primary', 'explode', '--reason', 'x'],
    says: [/action must be one of retry, skip, abort, not "explode"/],
  },
  {
    name: 'decide without --reason',
    args: ['decide', 'failover-ehr-db-20261127-0815', 'fence-primary', 'retry'],
    says: [/--reason is required/],
  },
  {
    // Before: read everything, then failed writing: exit 1, which the help gives to "ended without a result".
    name: 'report --out in a directory that does not exist',
    args: ['report', 'drill-ehr-db-20261127-0900', '--format', 'junit', '--out', '/nonexistent-drctl/d.xml'],
    says: [
      /--out \/nonexistent-drctl\/d\.xml: cannot write there \(\/nonexistent-drctl does not exist or is not writable\)/,
    ],
  },
  {
    // Before: silently ignored without --follow; the drill ran and the sandbox was not restored.
    name: 'drill run --restore-sandbox without --follow',
    args: ['drill', 'run', 'ehr-db', '--reason', 'x', '--restore-sandbox'],
    says: [/--restore-sandbox restores the topology once the drill has ended, so it needs --follow/],
  },
  {
    // Before: --cron was silently ignored for --quarterly.
    name: 'drill schedule with both --quarterly and --cron',
    args: ['drill', 'schedule', 'ehr-db', '--quarterly', '--cron', '0 9 1 * *', '--reason', 'x'],
    says: [/--quarterly and --cron each set the cadence: give one/],
  },
  {
    // Before: scheduled quarterly, with an empty cadence shown by `drill schedules`.
    name: 'drill schedule with an empty --cron',
    args: ['drill', 'schedule', 'ehr-db', '--cron', ' ', '--reason', 'x'],
    says: [/--cron is empty: give a cron expression/],
  },
  {
    // Before: read as 2 March (JavaScript rolls the day over), a silently shifted filter.
    name: 'runs with --since a day the calendar does not have',
    args: ['runs', '--since', '2026-02-30'],
    says: [/--since must be a duration back from now/, /got "2026-02-30"/],
  },
  {
    name: 'evidence verify with --since a day the calendar does not have',
    args: ['evidence', 'verify', '--since', '2026-02-30'],
    says: [/--since "2026-02-30" is neither a sequence number/],
  },
  {
    // Before: "give a run id or --file <result.json>, not both", when neither was given.
    name: 'verify-run with neither a run id nor --file',
    args: ['verify-run', '--policy', 'policy.json'],
    says: [/give the run to verify: a run id, or --file <result\.json>/],
  },
  {
    // Before: the filters were checked after connecting, so with Temporal down this said exit 3.
    name: 'runs with a bad --since',
    args: ['runs', '--since', 'last tuesday'],
    says: [/--since must be a duration back from now \(24h, 7d\) or a date/, /got "last tuesday"/],
  },
  {
    name: 'runs with a --runbook that is no runbook id',
    args: ['runs', '--runbook', "ehr-db' OR 1=1"],
    says: [/--runbook must be a runbook id such as ehr-db/],
  },
  {
    // Before: accepted, and the retry went ahead as if the option had not been given.
    name: 'decide retry with --no-rollback',
    args: ['decide', 'failover-ehr-db', 'fence-primary', 'retry', '--reason', 'x', '--no-rollback'],
    says: [/--no-rollback goes with abort only: a retry undoes nothing/],
  },
  {
    name: 'a bad --output',
    args: ['validate', 'ehr-db', '--output', 'yaml'],
    says: [/--output <format>/, /'yaml' is invalid/, /text, json/],
  },
  {
    name: 'a missing argument',
    args: ['plan'],
    says: [/missing required argument 'runbook'/],
  },
];

describe('drctl options: exit 2, what is allowed, nothing contacted', () => {
  test.concurrent.each(commandCases)(
    '$name',
    async ({ args, says, code }) => {
      const result = await drctl(args);
      expect(result.code).toBe(code ?? 2);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(STACK_TRACE);
      for (const text of says) expect(result.stderr).toMatch(text);
    },
    60_000,
  );

  test.concurrent.each(commandCases.filter((c) => !c.args.includes('--output')).slice(0, 4))(
    '$name, with --output json, is one JSON error',
    async ({ args, says }) => {
      const result = await drctl([...args, '--output', 'json']);
      expect(result.code).toBe(2);
      const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string } };
      expect(error.code).toMatch(/UnknownRunbook|ReasonRequired/);
      for (const text of says) expect(error.message).toMatch(text);
      expect(result.stderr).toBe('');
    },
    60_000,
  );
});
