import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadCatalog, runbookFiles, type BrokenEntry } from '../../runbooks/catalog';
import type { Runbook } from '../../runbooks/schema';
import { runbookSha256 } from '../sha256';
import { AuthFileError } from './auth-file-error';

/** One runbook of the worker's reviewed catalog. */
export interface ReviewedRunbook {
  runbook: Runbook;
  sha256: string;
  source: string;
}

/** Read-only: the same catalog is handed to every run start until a file of it changes. */
export interface ReviewedCatalog {
  readonly runbooks: ReadonlyMap<string, ReviewedRunbook>;
  /** Files that do not load, and ids given by two files: reported, and never run; the others still run. */
  readonly broken: readonly BrokenEntry[];
}

/** The catalog last read from each folder list, and the fingerprint of the files it was read from. */
const lastRead = new Map<string, { fingerprint: string; catalog: ReviewedCatalog }>();

/**
 * What the catalog was read from: each runbook file's path, inode, size, and change and modification times (ns).
 * Any edit, replacement, addition or removal of a file changes it; reading it costs one stat per file.
 */
function fingerprintOf(folders: readonly string[]): string {
  return runbookFiles(folders)
    .map((file) => {
      const stat = statSync(file, { bigint: true });
      return `${file}\0${stat.ino}\0${stat.size}\0${stat.ctimeNs}\0${stat.mtimeNs}`;
    })
    .join('\n');
}

/**
 * The worker's reviewed runbooks: every runbook file in the configured folders (a reviewed git checkout, say),
 * validated. Runs are started by id from here only; a client never ships a runbook to the worker. A broken file,
 * or an id two files claim, is listed as broken and does not stop the other runbooks.
 */
export function loadReviewedCatalog(dirs: readonly string[]): ReviewedCatalog {
  if (dirs.length === 0)
    throw new AuthFileError(
      'CatalogInvalid',
      '(none)',
      'no runbook catalog is configured: set access.catalogDirs in the worker config (or DRCTL_CATALOG_DIRS) to the reviewed runbook folders',
    );
  const folders = dirs.map((dir) => resolve(dir));
  for (const dir of folders) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new AuthFileError(
        'CatalogInvalid',
        dir,
        `runbook catalog folder ${dir} does not exist: check access.catalogDirs`,
      );
  }
  // Every run start reads the catalog (an edit applies to the next run); validating and hashing every runbook
  // again for each of an evacuation's children cost the worker ~30 ms per start with 25 runbooks.
  const key = folders.join('\0');
  const fingerprint = fingerprintOf(folders);
  const last = lastRead.get(key);
  if (last?.fingerprint === fingerprint) return last.catalog;
  const { entries, broken } = loadCatalog(folders, { examples: false });
  const runbooks = new Map<string, ReviewedRunbook>();
  const ambiguous = new Set<string>();
  for (const { runbook, source } of entries) {
    const earlier = runbooks.get(runbook.id);
    if (earlier === undefined && !ambiguous.has(runbook.id)) {
      runbooks.set(runbook.id, { runbook, sha256: runbookSha256(runbook), source });
      continue;
    }
    const message = `runbook id "${runbook.id}" is in the catalog twice (${earlier?.source ?? 'an earlier file'} and ${source}); ids must be unique, so neither runs`;
    broken.push({ source, message, issues: [{ path: 'id', message }] });
    runbooks.delete(runbook.id);
    ambiguous.add(runbook.id);
  }
  const catalog = { runbooks, broken };
  lastRead.set(key, { fingerprint, catalog });
  return catalog;
}
