import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { loadCatalog, registerTypeScriptLoader } from '../runbooks/catalog';
import type { RunbookIssue } from '../runbooks/runbook-validation-error';
import type { Runbook } from '../runbooks/schema';
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

/** Evacuation ids known (bundled examples and `extraDirs`), for messages and `drctl plan`. */
export function evacuationFiles(extraDirs: string[] = []): string[] {
  const files: string[] = [];
  for (const dir of [EXAMPLES_DIR, ...extraDirs]) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort())
      if (EXTENSIONS.has(extname(file)) && !file.endsWith('.d.ts')) files.push(join(dir, file));
  }
  return files;
}

/**
 * Resolves an evacuation by path or id (the file's name: `us-east-1` for `us-east-1.ts`) and every runbook it
 * names from the runbook catalog. A runbook the catalog does not know is refused at its path
 * (`waves[0].runbooks[2]`); nothing is started on an invalid evacuation. Undefined when nothing matches.
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
      : evacuationFiles(evacuationDirs).find((file) => basename(file, extname(file)) === reference);
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
        throw new EvacuationValidationError(`${e.evacuationLabel} (${path})`, e.issues, e.written);
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
