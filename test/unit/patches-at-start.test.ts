import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { everyPatch } from '../../workflows/patches-at-start';

/**
 * Every patch is decided in a run's first workflow task (`decidePatchesAtStart`): a patch left out would be asked
 * about later, where a local activity's answer can make replay diverge from the live run. Scans the code bundled
 * into the workflows for change ids, and the workflow entry points for the call.
 */
const ROOT = join(__dirname, '../..');
const BUNDLED_DIRS = ['workflows', 'kinds', 'providers', 'common', 'runbooks'];

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const sources = BUNDLED_DIRS.flatMap((dir) => sourcesUnder(join(ROOT, dir))).map((path) => ({
  path,
  text: readFileSync(path, 'utf8'),
}));

test('every change id the workflow code defines is decided at the start of a run', () => {
  const defined = sources.flatMap(({ text }) =>
    [...text.matchAll(/_PATCH = '([^']+)'|readAheadPatch: '([^']+)'/g)].map((match) => match[1] ?? match[2]),
  );
  expect(defined.length).toBeGreaterThan(10);
  expect([...everyPatch(), 'patches-decided-at-start'].sort()).toEqual([...new Set(defined)].sort());
});

test('every workflow the worker registers decides its patches before anything else', () => {
  const index = readFileSync(join(ROOT, 'workflows/index.ts'), 'utf8');
  // `export { a, b as c } from …`: the workflow functions by their own names.
  const registered = [...index.matchAll(/export \{([^}]+)\}/g)]
    .flatMap((match) => (match[1] ?? '').split(','))
    .map((name) => name.trim().split(' as ')[0] ?? '')
    .filter((name) => name.endsWith('Workflow'));
  expect(registered).toEqual(
    expect.arrayContaining(['failoverWorkflow', 'evacuationWorkflow', 'drillWorkflow']),
  );
  for (const name of new Set(registered)) {
    const definition = sources.find(({ text }) => text.includes(`export async function ${name}(`));
    expect(definition?.text).toMatch(
      new RegExp(`export async function ${name}\\([^\\n]*\\{\\n\\s*decidePatchesAtStart\\(\\);\\n`),
    );
  }
});
