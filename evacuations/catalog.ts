import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { loadCatalog, registerTypeScriptLoader } from '../runbooks/catalog';
import type { RunbookIssue } from '../runbooks/runbook-validation-error';
import type { Runbook } from '../runbooks/schema';
import { runbookMemo } from '../runbooks/validation-memo';
import { assertEvacuationFits, loadResultShape } from './evacuation-size';
import { EvacuationValidationError } from './evacuation-validation-error';
import type { Evacuation } from './schema';

/** An evacuation with every runbook it names, validated, ready to run by value. */
export interface LoadedEvacuation {
  evacuation: Evacuation;
  runbooks: Record<string, Runbook>;
  source: string;
}

const EXAMPLES_DIR = join(__dirname, 'examples');
const EXTENSIONS = new Set(['.ts', '.js', '.json']);

/** The evacuation files in `dirs`, each once, in name order per folder. */
function filesIn(dirs: readonly string[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      const source = resolve(dir, file);
      if (EXTENSIONS.has(extname(file)) && !file.endsWith('.d.ts') && !files.includes(source))
        files.push(source);
    }
  }
  return files;
}

/** One set of evacuation files (the bundled examples, or the configured folders) by the id each declares. */
interface EvacuationSet {
  byId: Map<string, string[]>;
  /** Files that do not load far enough to say their id (bad JSON, a syntax error, no `id`). */
  unreadable: string[];
}

/**
 * The configured folders' files, then the bundled examples, by declared id. A file that exports no evacuation (a
 * runbook in the same folder) is in neither.
 */
function evacuationSets(extraDirs: readonly string[]): EvacuationSet[] {
  const bundled = filesIn([EXAMPLES_DIR]);
  return [filesIn(extraDirs).filter((file) => !bundled.includes(file)), bundled].map((files) => {
    const set: EvacuationSet = { byId: new Map(), unreadable: [] };
    for (const source of files) {
      const declared = declaredId(source);
      if (declared === NOT_AN_EVACUATION) continue;
      if (declared === undefined) set.unreadable.push(source);
      else set.byId.set(declared, [...(set.byId.get(declared) ?? []), source]);
    }
    return set;
  });
}

const NOT_AN_EVACUATION = Symbol('not an evacuation');

/** The id an evacuation file declares; undefined when it does not load far enough to say. */
function declaredId(source: string): string | undefined | typeof NOT_AN_EVACUATION {
  // The CLI's validation memo (of this build) recalls what an unchanged file declared: looking up a runbook's id
  // among the evacuations then loads none of them (nor zod, which their modules' defineEvacuation loads).
  const memo = runbookMemo();
  const key = memo === undefined ? undefined : fileKey(source);
  const recalled = key === undefined ? undefined : memo?.recall<{ declares?: unknown }>(key);
  if (typeof recalled?.declares === 'string') return recalled.declares;
  if (recalled?.declares === null) return NOT_AN_EVACUATION;
  const declared = readDeclaredId(source);
  if (key !== undefined && declared !== undefined)
    memo?.remember(key, { declares: declared === NOT_AN_EVACUATION ? null : declared });
  return declared;
}

/** An evacuation file as the memo knows it: its path, size and change time (a changed file is read again). */
function fileKey(source: string): object | undefined {
  try {
    const { size, mtimeMs, ino } = statSync(source);
    return { drctlEvacuationFile: source, size, mtimeMs, ino };
  } catch {
    return undefined;
  }
}

function readDeclaredId(source: string): string | undefined | typeof NOT_AN_EVACUATION {
  let exported: unknown;
  try {
    exported = readExport(source);
  } catch (error) {
    if (error instanceof RefusedByModuleError) return error.declaredId;
    return undefined;
  }
  if (typeof exported !== 'object' || exported === null || !('waves' in exported)) return NOT_AN_EVACUATION;
  const { id } = exported as { id?: unknown };
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The file of the evacuation whose declared `id` is `id`, as runbooks are found: a file in the configured folders
 * replaces the bundled example of its id; two files of one set that declare one id are refused (at `id`, naming
 * both), neither runs. A file of a set that does not load and is named after `id` is returned (loading it says what
 * is wrong), so a broken copy never leaves the example to run in its place. Undefined when nothing matches.
 */
export function evacuationSource(id: string, extraDirs: readonly string[] = []): string | undefined {
  for (const { byId, unreadable } of evacuationSets(extraDirs)) {
    const sources = byId.get(id);
    if (sources?.length === 1) return sources[0];
    if (sources !== undefined)
      throw new EvacuationValidationError(id, [
        {
          path: 'id',
          message: `evacuation id "${id}" is declared by ${sources.join(' and ')}; ids must be unique, so neither runs: give one of them another id, or remove it`,
        },
      ]);
    const namesake = unreadable.find((file) => basename(file, extname(file)) === id);
    if (namesake !== undefined) return namesake;
  }
  return undefined;
}

/**
 * Why `reference` names no evacuation, for `drctl evacuate`: the ids known (the bundled examples first, each once),
 * a file named `reference` that declares another id, and the files that cannot be used.
 */
export function unknownEvacuation(
  reference: string,
  extraDirs: readonly string[] = [],
): { message: string; known: string[] } {
  const [own, bundled] = evacuationSets(extraDirs) as [EvacuationSet, EvacuationSet];
  const usable = (set: EvacuationSet) =>
    [...set.byId].filter(([, sources]) => sources.length === 1).map(([id]) => id);
  const known = [...usable(bundled).filter((id) => !own.byId.has(id)), ...usable(own)];
  const misnamed = [own, bundled]
    .flatMap((set) => [...set.byId].flatMap(([id, sources]) => sources.map((source) => ({ id, source }))))
    .filter(({ id, source }) => id !== reference && basename(source, extname(source)) === reference);
  const unusable = [own, bundled].flatMap((set) => [
    ...set.unreadable,
    ...[...set.byId.values()].filter((sources) => sources.length > 1).flat(),
  ]);
  const message =
    `no evacuation "${reference}". ` +
    misnamed
      .map(
        ({ id, source }) =>
          `${source} declares the id "${id}": an evacuation is named by its id, so pass "${id}" (or the file's path). `,
      )
      .join('') +
    `Known evacuations: ${known.join(', ') || 'none'}. ` +
    (unusable.length > 0
      ? `Evacuation files that cannot be used (drctl validate <file> says why): ${unusable.join(', ')}. `
      : '') +
    'Pass an id or a path to a .ts, .js or .json evacuation file.';
  return { message, known };
}

/**
 * Resolves an evacuation by path or by the id it declares (`evacuationSource`) and every runbook it names from the
 * runbook catalog. A runbook the catalog does not know is refused at its path (`waves[0].runbooks[2]`); nothing is
 * started on an invalid evacuation. Undefined when nothing matches.
 */
export function findEvacuation(
  reference: string,
  runbookDirs: string[],
  evacuationDirs: string[] = [],
): LoadedEvacuation | undefined {
  const asPath = resolve(reference);
  const source =
    EXTENSIONS.has(extname(reference)) && existsSync(asPath)
      ? asPath
      : evacuationSource(reference, evacuationDirs);
  if (source === undefined) return undefined;
  // A file named by path may be a runbook (`drctl plan ./ehr-db.json`): it is an evacuation only if it exports one.
  if (source === asPath && !exportsEvacuation(source)) return undefined;
  const knownRunbooks = () =>
    new Map(loadCatalog(runbookDirs).entries.map((entry) => [entry.runbook.id, entry.runbook]));
  let evacuation: Evacuation;
  try {
    evacuation = loadEvacuationFile(source);
  } catch (error) {
    // Refused for other fields: the runbooks it names are looked up too, so every problem shows at once.
    if (!(error instanceof EvacuationValidationError)) throw error;
    const missing = error.written === undefined ? [] : placeRunbooks(error.written, knownRunbooks(), {});
    if (missing.length === 0) throw error;
    throw new EvacuationValidationError(error.evacuationLabel, [...error.issues, ...missing]);
  }
  const runbooks: Record<string, Runbook> = {};
  const issues = placeRunbooks(evacuation, knownRunbooks(), runbooks);
  if (issues.length > 0) throw new EvacuationValidationError(`${evacuation.id} (${source})`, issues);
  assertEvacuationFits(`${evacuation.id} (${source})`, loadResultShape(evacuation, runbooks, source));
  return { evacuation, runbooks, source };
}

/**
 * For a reference `findEvacuation` did not find: when it names an evacuation-like file (.ts, .js, .json) that
 * does not load, throws that load error (with how to write the file elsewhere); otherwise returns, and the
 * caller says no such evacuation. A runbook file or a folder is left alone.
 */
export function explainNotAnEvacuation(reference: string): void {
  const path = resolve(reference);
  if (!EXTENSIONS.has(extname(path)) || !existsSync(path) || !statSync(path).isFile()) return;
  try {
    readExport(path);
  } catch (error) {
    const issues = (error as EvacuationValidationError).issues;
    if (issues?.some((issue) => issue.path === '(file)')) throw error;
  }
}

/** Puts each runbook the evacuation names into `runbooks`; an issue at its path for each the catalog lacks. */
function placeRunbooks(
  evacuation: Evacuation,
  known: ReadonlyMap<string, Runbook>,
  runbooks: Record<string, Runbook>,
): RunbookIssue[] {
  return evacuation.waves.flatMap((wave, w) =>
    wave.runbooks.flatMap((service, s) => {
      const runbook = known.get(service.runbook);
      if (runbook) {
        runbooks[service.runbook] = runbook;
        return [];
      }
      return [
        {
          path: `waves[${w}].runbooks[${s}]`,
          message: `no runbook "${service.runbook}"; known runbooks: ${[...known.keys()].join(', ') || 'none'} (see drctl runbooks)`,
        },
      ];
    }),
  );
}

/**
 * Whether a file is an evacuation: it exports something with waves, or its module refused itself as one (a
 * `defineEvacuation` error). Anything else, a runbook or a file that does not load, is left to the runbook catalog.
 */
function exportsEvacuation(path: string): boolean {
  try {
    const exported = readExport(path);
    return typeof exported === 'object' && exported !== null && 'waves' in exported;
  } catch (error) {
    // A copied example that cannot find `defineEvacuation` is an evacuation too: its error says how to fix it.
    if (error instanceof CopiedExampleError) return true;
    return (error as EvacuationValidationError).issues?.some((issue) => issue.path !== '(file)') ?? false;
  }
}

/** Loads one evacuation file: JSON, or a module whose default export is `defineEvacuation({...})`. */
export function loadEvacuationFile(path: string): Evacuation {
  const exported = readExport(path);
  if (exported === undefined) {
    throw new EvacuationValidationError(path, [
      { path: '(module)', message: 'exports no evacuation: add `export default defineEvacuation({ ... })`' },
    ]);
  }
  try {
    // Loaded on first use: the schema loads zod, which a command naming a runbook does not need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, like the rest of the catalog.
    const { defineEvacuation } = require('./define-evacuation') as typeof import('./define-evacuation');
    return defineEvacuation(exported as Parameters<typeof defineEvacuation>[0]);
  } catch (error) {
    if (error instanceof EvacuationValidationError)
      throw new EvacuationValidationError(`${error.evacuationLabel} (${path})`, error.issues, error.written);
    throw error;
  }
}

/**
 * An example copied out of `evacuations/examples` keeps its relative import of `defineEvacuation`, which resolves
 * only inside drctl's folder: its load error is an evacuation's, and says how to write it elsewhere.
 */
class CopiedExampleError extends EvacuationValidationError {}

/** A module whose `defineEvacuation` refused it while loading: the id it declares, for the lookup by id. */
class RefusedByModuleError extends EvacuationValidationError {
  readonly declaredId: string | undefined;
  constructor(label: string, issues: RunbookIssue[], written: Evacuation | undefined, defined?: string) {
    super(label, issues, written);
    // defineEvacuation labels an input without a string id "(no id)".
    this.declaredId = defined === undefined || defined === '(no id)' || defined === '' ? undefined : defined;
  }
}

function isCopiedExample(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  // The module not found is defineEvacuation itself (the first line), not one it imports (in the require stack).
  const missing = (e?.message ?? '').split('\n')[0] ?? '';
  return e?.code === 'MODULE_NOT_FOUND' && /Cannot find module '[^']*define-evacuation'/.test(missing);
}

const COPIED_IMPORT_HINT =
  ". Outside drctl's folder, export the plain object (`export default { id, title, waves: [...] }`, validated the same way) or import defineEvacuation from drctl's evacuations/define-evacuation by its full path";

/** What an evacuation file exports (JSON, or a module's default / `evacuation` export); load errors name the file. */
function readExport(path: string): unknown {
  let exported: unknown;
  if (extname(path) === '.json') {
    try {
      exported = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new EvacuationValidationError(path, [
        { path: '(file)', message: `not valid JSON: ${(error as Error).message}` },
      ]);
    }
  } else {
    if (extname(path) === '.ts') registerTypeScriptLoader();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- evacuations are code, like runbooks.
      const loaded = require(path) as { default?: unknown; evacuation?: unknown };
      exported = loaded.default ?? loaded.evacuation;
    } catch (error) {
      const e = error as Partial<EvacuationValidationError>;
      if (e?.name === 'EvacuationValidationError' && Array.isArray(e.issues))
        throw new RefusedByModuleError(
          `${e.evacuationLabel} (${path})`,
          e.issues,
          e.written,
          e.evacuationLabel,
        );
      const copied = isCopiedExample(error);
      throw new (copied ? CopiedExampleError : EvacuationValidationError)(path, [
        {
          path: '(file)',
          message: `could not be loaded: ${(error as Error)?.message?.split('\n')[0]}${copied ? COPIED_IMPORT_HINT : ''}`,
        },
      ]);
    }
  }
  return exported;
}
