import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { defineRunbook } from './define-runbook';
import { RunbookValidationError } from './runbook-validation-error';
import type { Runbook } from './schema';

/** A runbook and where it came from. */
export interface CatalogEntry {
  runbook: Runbook;
  source: string;
}

/** Thrown when a runbook reference names nothing known; lists what is. */
export class UnknownRunbookError extends Error {
  readonly code = 'UnknownRunbook';
  constructor(
    readonly reference: string,
    readonly known: string[],
  ) {
    super(
      `no runbook "${reference}". Known runbooks: ${known.join(', ') || 'none'}. ` +
        'Pass a runbook id, or a path to a .ts, .js or .json runbook file.',
    );
    this.name = 'UnknownRunbookError';
  }
}

const EXAMPLES_DIR = join(__dirname, 'examples');
const RUNBOOK_EXTENSIONS = new Set(['.ts', '.js', '.json']);

/**
 * The runbooks drctl knows: the bundled examples, plus every runbook file in `extraDirs` (from
 * DRCTL_RUNBOOKS_DIR). A file is validated when it loads, so a broken runbook fails here with its problems.
 */
export function listRunbooks(extraDirs: string[] = []): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  for (const dir of [EXAMPLES_DIR, ...extraDirs]) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!RUNBOOK_EXTENSIONS.has(extname(file)) || file.endsWith('.d.ts') || file.startsWith('index.'))
        continue;
      const source = join(dir, file);
      entries.push({ runbook: loadRunbookFile(source), source });
    }
  }
  return entries;
}

/** Resolves a runbook id or a file path to a validated runbook. */
export function findRunbook(reference: string, extraDirs: string[] = []): CatalogEntry {
  const asPath = resolve(reference);
  if (RUNBOOK_EXTENSIONS.has(extname(reference)) && existsSync(asPath)) {
    return { runbook: loadRunbookFile(asPath), source: asPath };
  }
  const all = listRunbooks(extraDirs);
  const found = all.find((entry) => entry.runbook.id === reference);
  if (!found)
    throw new UnknownRunbookError(
      reference,
      all.map((entry) => entry.runbook.id),
    );
  return found;
}

/** Loads one runbook file: JSON, or a module whose default export (or `runbook` export) is the runbook. */
export function loadRunbookFile(path: string): Runbook {
  if (extname(path) === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new RunbookValidationError(path, [
        { path: '(file)', message: `not valid JSON: ${(error as Error).message}` },
      ]);
    }
    return defineRunbook(parsed as Parameters<typeof defineRunbook>[0]);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- runbooks are code; the CLI runs under tsx.
  const loaded = require(path) as { default?: unknown; runbook?: unknown };
  const exported = loaded.default ?? loaded.runbook;
  if (exported === undefined) {
    throw new RunbookValidationError(path, [
      { path: '(module)', message: 'exports no runbook: add `export default defineRunbook({ ... })`' },
    ]);
  }
  return defineRunbook(exported as Parameters<typeof defineRunbook>[0]);
}
