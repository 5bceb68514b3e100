import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timelineLine } from '../../cli/render';
import type { TimelineEntry } from '../../workflows/run-types';
import { runDrctl } from './run-drctl';

/**
 * The prebuilt CLI loads a library only in the commands that use it: `--help` and the help of every command
 * work without the Temporal client, the schemas or the signature library, and the commands that need them
 * still find them when they run (from dist/, as installed).
 */
const dir = mkdtempSync(join(tmpdir(), 'drctl-startup-'));
/** A preload that writes the modules a process loaded, one path a line, as it exits. */
const RECORDER = join(dir, 'record-modules.js');
writeFileSync(
  RECORDER,
  `process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, Object.keys(require.cache).join('\\n')));`,
);

const drctl = (args: string[], env: NodeJS.ProcessEnv = {}) => runDrctl(args, { HOME: dir, ...env });

async function modulesLoadedBy(args: string[]): Promise<{ stdout: string; modules: string[] }> {
  const out = join(dir, `modules-${args.join('-').replace(/\W/g, '_')}.txt`);
  const { code, stdout, stderr } = await drctl(args, {
    NODE_OPTIONS: `--require ${RECORDER}`,
    MODULES_OUT: out,
  });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return { stdout, modules: readFileSync(out, 'utf8').split('\n') };
}

const HEAVY = [
  '@temporalio/client',
  '@temporalio/proto',
  '@grpc/grpc-js',
  'zod',
  '@noble/curves',
  '@aws-sdk/',
];
const loaded = (modules: string[], library: string) =>
  modules.some((path) => path.includes(`/node_modules/${library}`));

test('GIVEN the prebuilt CLI WHEN drctl --help runs THEN it lists every command and loads no client, schema or signature library', async () => {
  const { stdout, modules } = await modulesLoadedBy(['--help']);
  for (const command of [
    'failover',
    'plan',
    'status',
    'runs',
    'drill',
    'report',
    'evidence',
    'keys',
    'worker',
  ])
    expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  expect(modules.some((path) => path.endsWith('/dist/cli/main.js'))).toBe(true);
  expect(HEAVY.filter((library) => loaded(modules, library))).toEqual([]);
});

test.each(['report', 'drill run', 'keys init', 'evidence verify', 'status'])(
  'GIVEN the prebuilt CLI WHEN drctl %s --help runs THEN it shows its options without loading the heavy libraries',
  async (command) => {
    const { stdout, modules } = await modulesLoadedBy([...command.split(' '), '--help']);
    expect(stdout).toMatch(/^Usage: drctl /m);
    expect(HEAVY.filter((library) => loaded(modules, library))).toEqual([]);
  },
);

test('GIVEN XDG_CACHE_HOME WHEN drctl runs THEN V8 caches its compiled code there, in a directory of the user', async () => {
  const cacheHome = join(dir, 'cache');
  expect((await drctl(['--help'], { XDG_CACHE_HOME: cacheHome })).code).toBe(0);
  const cache = join(cacheHome, 'drctl', 'node-compile-cache');
  const [version] = readdirSync(cache);
  expect(version).toContain(process.version);
  expect(readdirSync(join(cache, version as string)).length).toBeGreaterThan(10);
});

test('GIVEN drctl report --help THEN the formats are the renderers\u2019 formats', async () => {
  const { REPORT_FORMATS } = await import('../../reports');
  const { stdout } = await drctl(['report', '--help']);
  expect(stdout).toContain(`choices: ${REPORT_FORMATS.map((format) => `"${format}"`).join(', ')}`);
});

test('GIVEN a key command WHEN it runs from dist THEN the signature library it loads lazily is found and the key works', async () => {
  const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
  const created = await drctl(['keys', 'init', '--name', 'erin', '--output', 'json'], env);
  expect(created.code).toBe(0);
  const shown = await drctl(['keys', 'show', '--output', 'json'], env);
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.stdout).publicKey).toBe(JSON.parse(created.stdout).publicKey);
});

describe('timeline lines mark a re-run that found the effect in place, for steps that change the estate only', () => {
  const entry = (kind: string): TimelineEntry => ({
    stepId: 'step',
    kind,
    status: 'succeeded',
    startedAt: '2026-11-28T09:00:00.000Z',
    durationMs: 10,
    attempts: 1,
    providerMs: 0,
    changed: false,
  });

  test.each(['flags.set', 'database.fence', 'database.promote', 'dns.switch'])('%s', (kind) => {
    expect(timelineLine(entry(kind))).toContain('[already done, nothing changed]');
  });

  test.each(['preflight', 'probe', 'backups.verify', 'wait', 'approval'])('not %s', (kind) => {
    expect(timelineLine(entry(kind))).not.toContain('already done');
  });
});
