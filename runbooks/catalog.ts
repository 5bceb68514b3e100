import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
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
  /** The id it declares: one two files declare, or a broken JSON file's (it hides the example of that id). */
  runbookId?: string;
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
    readonly missingDirs: string[] = [],
    /** What the reference names on disk when that is no runbook file: a folder, or a file of another type. */
    readonly found?: 'folder' | 'other file',
  ) {
    super(
      found === undefined
        ? unknownMessage(reference, known, broken, missingDirs)
        : notARunbookFileMessage(reference, found) +
            (known.length > 0 ? ` Known runbooks: ${known.join(', ')}.` : ''),
    );
    this.name = 'UnknownRunbookError';
  }
}

function unknownMessage(reference: string, known: string[], broken: string[], missingDirs: string[]): string {
  return (
    (looksLikePath(reference)
      ? `no runbook file "${reference}": there is no such file (${resolve(reference)}). `
      : `no runbook "${reference}". `) +
    `Known runbooks: ${known.join(', ') || 'none'}. ` +
    (broken.length > 0 ? `Broken runbook files (see drctl runbooks): ${broken.join(', ')}. ` : '') +
    (missingDirs.length > 0
      ? `These runbook folders do not exist (check DRCTL_RUNBOOKS_DIR): ${missingDirs.join(', ')}. `
      : '') +
    'Pass a runbook id, or a path to a .ts, .js or .json runbook file.'
  );
}

function notARunbookFileMessage(reference: string, found: 'folder' | 'other file'): string {
  const path = resolve(reference);
  if (found === 'other file') {
    const extension = extname(path);
    return (
      `no runbook file "${reference}": ${path} is a ${extension === '' ? 'file without an extension' : `${extension} file`}, ` +
      `and drctl reads runbooks from .ts, .js and .json files only. Write the runbook as JSON ` +
      `(${basename(path, extension)}.json) or as a TypeScript module whose default export is the runbook.`
    );
  }
  const files = runbookFiles([path]).map((file) => join(reference, basename(file)));
  const shown = files.length > 5 ? [...files.slice(0, 5), `and ${files.length - 5} more`] : files;
  return (
    `no runbook file "${reference}": ${path} is a directory, not a runbook file. Name one runbook file in it ` +
    (files.length > 0 ? `(${shown.join(', ')})` : '(it holds no .ts, .js or .json file)') +
    `, or put the folder in DRCTL_RUNBOOKS_DIR and pass a runbook's id.`
  );
}

/** A reference that can only be a path: ids are lower-case letters, digits and dashes, with no dot or slash. */
function looksLikePath(reference: string): boolean {
  return /[\\/]/.test(reference) || extname(reference) !== '';
}

/**
 * Throws when `reference` names a folder, or a file drctl does not read runbooks from (listing `known`, the
 * catalog's ids, when it was read); returns otherwise.
 */
function refuseOtherThanRunbookFile(reference: string, known: string[] = []): void {
  const path = resolve(reference);
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new UnknownRunbookError(reference, known, [], [], 'folder');
  if (!RUNBOOK_EXTENSIONS.has(extname(path)))
    throw new UnknownRunbookError(reference, known, [], [], 'other file');
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
  const examples = options.examples === false ? [] : runbookFiles([EXAMPLES_DIR]);
  const own = runbookFiles(extraDirs).filter((source) => !examples.includes(source));
  const load = (sources: string[]): CatalogEntry[] =>
    sources.flatMap((source) => {
      try {
        return [{ runbook: loadRunbookFile(source), source }];
      } catch (error) {
        catalog.broken.push(brokenEntry(source, error));
        return [];
      }
    });
  const ownEntries = withUniqueIds(load(own), catalog.broken);
  // A runbook of your own folders replaces the bundled example of the same id (a copy you edited), even when
  // that copy is broken: its problems are said, and the example never runs in its place.
  const ownIds = new Set([
    ...ownEntries.map((entry) => entry.runbook.id),
    ...catalog.broken.flatMap((entry) => (entry.runbookId === undefined ? [] : [entry.runbookId])),
  ]);
  const exampleEntries = load(examples).filter((entry) => !ownIds.has(entry.runbook.id));
  catalog.entries.push(...exampleEntries, ...ownEntries);
  return catalog;
}

/** Two files with one id are ambiguous: neither is used, both are listed as broken, naming each other. */
function withUniqueIds(entries: CatalogEntry[], broken: BrokenEntry[]): CatalogEntry[] {
  const sourcesById = new Map<string, string[]>();
  for (const { runbook, source } of entries)
    sourcesById.set(runbook.id, [...(sourcesById.get(runbook.id) ?? []), source]);
  return entries.filter(({ runbook, source }) => {
    const sources = sourcesById.get(runbook.id) ?? [];
    if (sources.length === 1) return true;
    const message = `runbook id "${runbook.id}" is in the catalog twice (${sources.join(' and ')}); ids must be unique, so neither runs`;
    broken.push({ source, message, issues: [{ path: 'id', message }], runbookId: runbook.id });
    return false;
  });
}

/** Resolves a runbook id or a file path to a validated runbook; a broken file is not skipped silently. */
export function findRunbook(reference: string, extraDirs: string[] = []): CatalogEntry {
  const asPath = resolve(reference);
  if (RUNBOOK_EXTENSIONS.has(extname(reference)) && existsSync(asPath) && statSync(asPath).isFile()) {
    return { runbook: loadRunbookFile(asPath), source: asPath };
  }
  if (looksLikePath(reference)) refuseOtherThanRunbookFile(reference);
  const { entries, broken } = loadCatalog(extraDirs);
  const found = entries.find((entry) => entry.runbook.id === reference);
  if (found) return found;
  // A broken file named after the runbook is most likely the one meant: say what is wrong with it.
  const namesake =
    broken.find((entry) => entry.runbookId === reference) ??
    broken.find((entry) => basename(entry.source, extname(entry.source)) === reference);
  if (namesake) throw new RunbookLoadError(namesake.source, namesake.message, namesake.issues);
  // A bare name that is no runbook id may still be a folder or file here (`drctl validate runbooks`).
  refuseOtherThanRunbookFile(
    reference,
    entries.map((entry) => entry.runbook.id),
  );
  throw new UnknownRunbookError(
    reference,
    entries.map((entry) => entry.runbook.id),
    broken.map((entry) => entry.source),
    extraDirs.filter((dir) => !existsSync(dir)),
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
  if (extname(path) === '.ts') registerTypeScriptLoader();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- runbooks are code; the CLI loads them with tsx.
    loaded = require(path) as { default?: unknown; runbook?: unknown };
  } catch (error) {
    const invalid = asValidationError(error);
    if (invalid) throw relabel(path, invalid);
    throw new RunbookLoadError(path, `could not be loaded: ${loadFailure(error)}`, []);
  }
  const exported = loaded.default ?? loaded.runbook;
  if (exported === undefined) {
    throw new RunbookValidationError(path, [
      { path: '(module)', message: 'exports no runbook: add `export default defineRunbook({ ... })`' },
    ]);
  }
  return validateAs(path, exported);
}

/**
 * TypeScript runbooks are loaded with tsx, registered the first time one is read: drctl itself runs as prebuilt
 * JavaScript, and commands that read no `.ts` file never pay for the loader. Under tsx already (tests, `npm run
 * drctl`) this is a no-op.
 */
export function registerTypeScriptLoader(): void {
  // Running from the sources (tsx, jest) already loads TypeScript.
  if (typeScriptLoaderRegistered || __filename.endsWith('.ts')) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the loader is optional until a .ts runbook is read.
  require('tsx/cjs');
  typeScriptLoaderRegistered = true;
}
let typeScriptLoaderRegistered = false;

/**
 * The validation error a runbook module threw. A TypeScript runbook that imports `defineRunbook` from drctl's
 * sources (loaded by tsx) throws that module's class, not the prebuilt one's: recognised by its shape.
 */
function asValidationError(error: unknown): RunbookValidationError | undefined {
  if (error instanceof RunbookValidationError) return error;
  const e = error as Partial<RunbookValidationError> | undefined;
  if (e?.name === 'RunbookValidationError' && typeof e.runbookLabel === 'string' && Array.isArray(e.issues))
    return new RunbookValidationError(e.runbookLabel, e.issues);
  return undefined;
}

function validateAs(path: string, input: unknown): Runbook {
  // Loaded on first use: the schema pulls in every step kind.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, like the rest of the catalog.
  const { defineRunbook } = require('./define-runbook') as typeof import('./define-runbook');
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
  const runbookId = declaredId(source);
  const declared = runbookId === undefined ? {} : { runbookId };
  if (error instanceof RunbookValidationError) {
    return { source, message: error.message, issues: error.issues, ...declared };
  }
  return {
    source,
    message: firstLine(error),
    issues: [{ path: '(file)', message: firstLine(error) }],
    ...declared,
  };
}

/** The id a broken JSON runbook declares, if it reads as JSON with a string id (a TypeScript one is not run). */
function declaredId(source: string): string | undefined {
  if (extname(source) !== '.json') return undefined;
  try {
    const id = (JSON.parse(readFileSync(source, 'utf8')) as { id?: unknown }).id;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The runbook files in `dirs`, each once, in name order per folder: what `loadCatalog` reads. */
export function runbookFiles(dirs: readonly string[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!RUNBOOK_EXTENSIONS.has(extname(file)) || file.endsWith('.d.ts') || file.startsWith('index.'))
        continue;
      const source = resolve(dir, file);
      if (!files.includes(source)) files.push(source);
    }
  }
  return files;
}

/**
 * Why a module did not load. tsx's esbuild puts the useful part of a syntax error (file:line:column, what it
 * expected) on the lines after "Transform failed with N error(s):", so those lines are kept.
 */
function loadFailure(error: unknown): string {
  const lines = ((error as Error)?.message ?? String(error)).split('\n').filter((line) => line.trim() !== '');
  if (/^Transform failed with \d+ errors?:$/.test(lines[0] ?? '')) {
    return `syntax error: ${lines.slice(1, 4).join('; ')}`;
  }
  return lines[0] ?? 'unknown error';
}

function firstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0] ?? 'unknown error';
}
