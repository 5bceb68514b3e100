import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runbookSha256 } from '../../auth/sha256';
import { defineRunbook } from '../../runbooks/define-runbook';
import ehrDb from '../../runbooks/examples/ehr-db';
import { RunbookValidationError } from '../../runbooks/runbook-validation-error';
import type { Runbook } from '../../runbooks/schema';
import { diskRunbookMemo, useRunbookMemo } from '../../runbooks/validation-memo';

/**
 * The CLI's memo of runbook validation: the same data on the same build is recalled instead of validated, and
 * nothing else is — another runbook, another build, a broken runbook, data that is not plain.
 */
const input = (): Record<string, unknown> => JSON.parse(JSON.stringify(ehrDb)) as Record<string, unknown>;
let dir: string;
let build: string | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drctl-memo-'));
  build = 'build-1';
  useRunbookMemo(diskRunbookMemo(dir, () => build));
});

afterEach(() => useRunbookMemo(undefined));

/** The memo's files (one per remembered runbook data), with their folder (one per build). */
const memoFiles = (): string[] =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((path) => path.endsWith('.json')).sort();

/** Plants `runbook` as what the memo recalls for `data`: a recall, not a validation, is what returns it. */
function plant(data: unknown, runbook: Runbook): void {
  diskRunbookMemo(dir, () => build).remember(data, runbook);
}

test('GIVEN a runbook validated once WHEN the same data is defined again THEN the memo answers, equal to validation', () => {
  const validated = defineRunbook(input() as never);
  expect(memoFiles()).toHaveLength(1);
  expect(statSync(join(dir, memoFiles()[0] as string)).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, readdirSync(dir)[0] as string)).mode & 0o777).toBe(0o700);

  const recalled = defineRunbook(input() as never);

  expect(recalled).toEqual(validated);
  expect(runbookSha256(recalled)).toBe(runbookSha256(validated));
  plant(input(), { ...validated, title: 'what the memo holds' });
  expect(defineRunbook(input() as never).title).toBe('what the memo holds');
});

test('GIVEN a remembered runbook WHEN one field changes, or the build does THEN it is validated again', () => {
  const validated = defineRunbook(input() as never);
  plant(input(), { ...validated, title: 'what the memo holds' });

  const broken = { ...input(), objectives: { rto: 'soon', rpo: '1m' } };
  expect(() => defineRunbook(broken as never)).toThrow(RunbookValidationError);
  expect(defineRunbook({ ...input(), title: 'changed' } as never).title).toBe('changed');
  build = 'build-2';
  expect(defineRunbook(input() as never).title).toBe(validated.title);
});

test('GIVEN answers of other builds WHEN a new build remembers its first THEN a build written a week ago is gone, a recent one stays', () => {
  defineRunbook(input() as never);
  const [weekOld] = readdirSync(dir);
  const aWeekAgo = new Date(Date.now() - 8 * 24 * 3600_000);
  utimesSync(join(dir, weekOld as string), aWeekAgo, aWeekAgo);
  build = 'build-2';
  defineRunbook(input() as never);
  const recent = readdirSync(dir).find((entry) => entry !== weekOld);

  build = 'build-3';
  defineRunbook(input() as never);

  expect(readdirSync(dir)).not.toContain(weekOld);
  expect(readdirSync(dir)).toContain(recent);
  expect(memoFiles()).toHaveLength(2);
});

test('GIVEN eight builds WHEN a ninth remembers its first THEN the least recently written goes', () => {
  const folders: string[] = [];
  for (let i = 0; i < 9; i++) {
    build = `build-${i}`;
    defineRunbook(input() as never);
    const added = readdirSync(dir).find((entry) => !folders.includes(entry)) as string;
    const when = new Date(Date.now() - (9 - i) * 60_000);
    utimesSync(join(dir, added), when, when);
    folders.push(added);
  }

  expect(readdirSync(dir).sort()).toEqual(folders.slice(1).sort());
});

test('GIVEN a broken runbook WHEN defined twice THEN both calls list its problems and nothing is remembered', () => {
  const broken = { ...input(), steps: [] };
  for (let i = 0; i < 2; i++) expect(() => defineRunbook(broken as never)).toThrow(RunbookValidationError);
  expect(memoFiles()).toEqual([]);
});

test('GIVEN a key set to undefined WHEN another runbook lacks the key THEN they are told apart', () => {
  const validated = defineRunbook(input() as never);
  plant({ ...input(), description: undefined }, { ...validated, title: 'with an undefined description' });

  expect(defineRunbook(input() as never).title).toBe(validated.title);
  expect(defineRunbook({ ...input(), description: undefined } as never).title).toBe(
    'with an undefined description',
  );
});

class Objectives {
  rto = '15m';
  rpo = '1m';
}

test.each([
  ['a getter', () => Object.defineProperty(input(), 'owner', { get: () => 'platform', enumerable: true })],
  ['a hidden property', () => Object.defineProperty(input(), 'owner', { value: 'x', enumerable: false })],
  ['a class instance', () => ({ ...input(), objectives: new Objectives() })],
])(
  'GIVEN valid data holding %s (not plain JSON) WHEN defined THEN it is validated and not remembered',
  (_what, make) => {
    expect(defineRunbook(make() as never).id).toBe(ehrDb.id);
    expect(memoFiles()).toEqual([]);
  },
);

test('GIVEN no build to name WHEN defined THEN the memo is off', () => {
  build = undefined;
  defineRunbook(input() as never);
  expect(memoFiles()).toEqual([]);
});

test('GIVEN a memo file that is not JSON WHEN recalled THEN the runbook is validated again', () => {
  const validated = defineRunbook(input() as never);
  writeFileSync(join(dir, memoFiles()[0] as string), '{"runbook": ');
  expect(defineRunbook(input() as never)).toEqual(validated);
});

test('GIVEN the prebuilt CLI WHEN a runbook is read a second time THEN neither zod nor any step kind is loaded', () => {
  const cacheHome = mkdtempSync(join(tmpdir(), 'drctl-memo-cli-'));
  const dist = resolve(__dirname, '../../dist');
  const script = [
    `require(${JSON.stringify(join(dist, 'cli/runbook-memo.js'))}).enableRunbookMemo();`,
    `const { runbook } = require(${JSON.stringify(join(dist, 'runbooks/catalog.js'))}).findRunbook('ehr-db');`,
    `const sha = require(${JSON.stringify(join(dist, 'auth/sha256.js'))}).runbookSha256(runbook);`,
    `const loaded = (part) => Object.keys(require.cache).some((path) => path.includes(part));`,
    `console.log(JSON.stringify({ sha, zod: loaded('/node_modules/zod/'), kinds: loaded('/dist/kinds/') }));`,
  ].join('\n');
  const read = () =>
    JSON.parse(
      execFileSync(process.execPath, ['-e', script], {
        env: { PATH: process.env.PATH, HOME: cacheHome, XDG_CACHE_HOME: cacheHome },
      }).toString(),
    ) as { sha: string; zod: boolean; kinds: boolean };

  const first = read();
  const second = read();

  expect(first).toEqual({ sha: runbookSha256(ehrDb), zod: true, kinds: true });
  expect(second).toEqual({ sha: runbookSha256(ehrDb), zod: false, kinds: false });
  expect(readdirSync(join(cacheHome, 'drctl', 'validated-runbooks')).length).toBeGreaterThan(0);
});
