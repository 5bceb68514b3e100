import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_PATCHES } from '../../workflows/patch-bundle';
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
  expect([...everyPatch(), 'patches-decided-at-start', 'patches-bundled-2026-12'].sort()).toEqual(
    [...new Set(defined)].sort(),
  );
});

test('every bundled patch is a change id the workflow code asks about', () => {
  expect([...BUNDLED_PATCHES].filter((id) => !everyPatch().includes(id))).toEqual([]);
});

test('workflow code asks hasPatch(), so a bundled patch adds no marker of its own', () => {
  const asking = sources
    .filter(({ path }) => !/workflows\/(patches-at-start|patch-bundle)\.ts$/.test(path))
    // Any use of the name in code (a call, `wf.patched(…)`, `import { patched as p }`), comments left out.
    .filter(({ text }) => /\bpatched\b/.test(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')))
    .map(({ path }) => path);
  expect(asking).toEqual([]);
});

test('a run recorded since the bundle records one patch marker, not one per patch', () => {
  type PatchEvent = {
    eventType: string;
    markerRecordedEventAttributes?: {
      markerName?: string;
      details?: { 'patch-data'?: { payloads?: Array<{ data?: string }> } };
    };
  };
  const { events } = JSON.parse(
    readFileSync(join(ROOT, 'test/fixtures/histories/failover-complete.json'), 'utf8'),
  ) as { events: PatchEvent[] };
  const patchIds = events
    .filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((event) => {
      const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? '';
      return (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id;
    });
  expect(patchIds).toEqual(['patches-bundled-2026-12']);
});
