import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { loadRunbookFile } from '../../runbooks/catalog';
import { RunbookValidationError } from '../../runbooks/runbook-validation-error';
import type { Runbook } from '../../runbooks/schema';
import { runbookSha256 } from '../sha256';
import { AuthFileError } from './auth-file-error';

const RUNBOOK_EXTENSIONS = new Set(['.ts', '.js', '.json']);

/** One runbook of the worker's reviewed catalog. */
export interface ReviewedRunbook {
  runbook: Runbook;
  sha256: string;
  source: string;
}

/**
 * The worker's reviewed runbooks: every runbook file in the configured folders (a reviewed git checkout, say),
 * validated. Runs are started by id from here only; a client never ships a runbook to the worker.
 */
export function loadReviewedCatalog(dirs: readonly string[]): Map<string, ReviewedRunbook> {
  if (dirs.length === 0)
    throw new AuthFileError(
      'CatalogInvalid',
      '(none)',
      'no runbook catalog is configured: set access.catalogDirs in the worker config (or DRCTL_CATALOG_DIRS) to the reviewed runbook folders',
    );
  const catalog = new Map<string, ReviewedRunbook>();
  for (const dir of dirs.map((d) => resolve(d))) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new AuthFileError(
        'CatalogInvalid',
        dir,
        `runbook catalog folder ${dir} does not exist: check access.catalogDirs`,
      );
    for (const file of readdirSync(dir).sort()) {
      if (!RUNBOOK_EXTENSIONS.has(extname(file)) || file.endsWith('.d.ts') || file.startsWith('index.'))
        continue;
      const source = join(dir, file);
      let runbook: Runbook;
      try {
        runbook = loadRunbookFile(source);
      } catch (error) {
        if (error instanceof RunbookValidationError)
          throw new AuthFileError('CatalogInvalid', source, `catalog runbook ${error.message}`, error.issues);
        throw error;
      }
      const earlier = catalog.get(runbook.id);
      if (earlier)
        throw new AuthFileError(
          'CatalogInvalid',
          source,
          `runbook id "${runbook.id}" is in the catalog twice (${earlier.source} and ${source}); ids must be unique`,
        );
      catalog.set(runbook.id, { runbook, sha256: runbookSha256(runbook), source });
    }
  }
  return catalog;
}
