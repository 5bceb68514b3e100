import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { defineRunbook } from './define-runbook';
import { RunbookValidationError, type RunbookIssue } from './runbook-validation-error';
import type { Runbook } from './schema';

/** A runbook and where it came from. */
export interface CatalogEntry {
  runbook: Runbook;
  source: string;
}

/** A runbook file that could not be loaded: where it is and why, so it can be fixed without hiding the rest. */
export interface BrokenEntry {
  source: string;
  message: string;
  issues: RunbookIssue[];
}

export interface Catalog {
  entries: CatalogEntry[];
  broken: BrokenEntry[];
}

/** Thrown when a runbook reference names nothing known; lists what is, and which files are broken. */
export class UnknownRunbookError extends Error {
  readonly code = 'UnknownRunbook';
  constructor(
    readonly reference: string,
    readonly known: string[],
    readonly broken: string[] = [],
  ) {
    super(
      `no runbook "${reference}". Known runbooks: ${known.join(', ') || 'none'}. ` +
        (broken.length > 0 ? `Broken runbook files (see drctl runbooks): ${broken.join(', ')}. ` : '') +
        'Pass a runbook id, or a path to a .ts, .js or .json runbook file.',
    );
    this.name = 'UnknownRunbookError';
  }
}

const EXAMPLES_DIR = join(__dirname, 'examples');
const RUNBOOK_EXTENSIONS = new Set(['.ts', '.js', '.json']);

/**
 * The runbooks drctl knows: the bundled examples (unless `examples: false`), plus every runbook file in
 * `extraDirs` (DRCTL_RUNBOOKS_DIR; a worker's reviewed folders). Each file is loaded and validated on its own: a
 * broken one is listed with its path and error and does not hide the others.
 */
export function loadCatalog(
  extraDirs: readonly string[] = [],
  options: { examples?: boolean } = {},
): Catalog {
  const catalog: Catalog = { entries: [], broken: [] };
  const dirs = options.examples === false ? extraDirs : [EXAMPLES_DIR, ...extraDirs];
  for (const source of runbookFiles(dirs)) {
    try {
      catalog.entries.push({ runbook: loadRunbookFile(source), source });
    } catch (error) {
      catalog.broken.push(brokenEntry(source, error));
    }
  }
  return catalog;
}

/** Resolves a runbook id or a file path to a validated runbook; a broken file is not skipped silently. */
export function findRunbook(reference: string, extraDirs: string[] = []): CatalogEntry {
  const asPath = resolve(reference);
  if (RUNBOOK_EXTENSIONS.has(extname(reference)) && existsSync(asPath)) {
    return { runbook: loadRunbookFile(asPath), source: asPath };
  }
  const { entries, broken } = loadCatalog(extraDirs);
  const found = entries.find((entry) => entry.runbook.id === reference);
  if (found) return found;
  // A broken file named after the runbook is most likely the one meant: say what is wrong with it.
  const namesake = broken.find((entry) => basename(entry.source, extname(entry.source)) === reference);
  if (namesake) throw new RunbookLoadError(namesake.source, namesake.message, namesake.issues);
  throw new UnknownRunbookError(
    reference,
    entries.map((entry) => entry.runbook.id),
    broken.map((entry) => entry.source),
  );
}

/** Thrown when a runbook file cannot be loaded at all (a syntax error, an exception on import). */
export class RunbookLoadError extends RunbookValidationError {
  constructor(source: string, message: string, issues: RunbookIssue[]) {
    super(source, issues.length > 0 ? issues : [{ path: '(file)', message }]);
  }
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
    return validateAs(path, parsed);
  }
  let loaded: { default?: unknown; runbook?: unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- runbooks are code; the CLI loads them with tsx.
    loaded = require(path) as { default?: unknown; runbook?: unknown };
  } catch (error) {
    if (error instanceof RunbookValidationError) throw relabel(path, error);
    throw new RunbookLoadError(path, `could not be loaded: ${firstLine(error)}`, []);
  }
  const exported = loaded.default ?? loaded.runbook;
  if (exported === undefined) {
    throw new RunbookValidationError(path, [
      { path: '(module)', message: 'exports no runbook: add `export default defineRunbook({ ... })`' },
    ]);
  }
  return validateAs(path, exported);
}

function validateAs(path: string, input: unknown): Runbook {
  try {
    return defineRunbook(input as Parameters<typeof defineRunbook>[0]);
  } catch (error) {
    if (error instanceof RunbookValidationError) throw relabel(path, error);
    throw error;
  }
}

/** The file's problems under the file's name, so the operator knows which file to open. */
function relabel(path: string, error: RunbookValidationError): RunbookValidationError {
  return error.runbookLabel === path
    ? error
    : new RunbookValidationError(`${error.runbookLabel} (${path})`, error.issues);
}

function brokenEntry(source: string, error: unknown): BrokenEntry {
  if (error instanceof RunbookValidationError) {
    return { source, message: error.message, issues: error.issues };
  }
  return { source, message: firstLine(error), issues: [{ path: '(file)', message: firstLine(error) }] };
}

function runbookFiles(dirs: readonly string[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!RUNBOOK_EXTENSIONS.has(extname(file)) || file.endsWith('.d.ts') || file.startsWith('index.'))
        continue;
      files.push(join(dir, file));
    }
  }
  return files;
}

function firstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0] ?? 'unknown error';
}
