import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { referenceTo, type RunTarget } from '../../cli/failover-runs';
import { loadSigner, type OperatorSigner } from '../../cli/operator-signer';
import { loadCatalog, loadRunbookFile } from '../../runbooks/catalog';
import { failbackTarget } from '../../runbooks/failback-runbook';
import { operatorPaths, type DemoOperator } from '../../sandbox/operator-seed';

/** The bundled examples: the sandbox worker's reviewed catalog. */
export const EXAMPLES_DIR = resolve(__dirname, '../../runbooks/examples');

/**
 * A folder of runbooks a test adds to its worker's reviewed catalog (DRCTL_CATALOG_DIRS): variants of the
 * examples are written here, as a reviewer would merge them, before a client may run them.
 */
export function newCatalogDir(): string {
  return mkdtempSync(join(tmpdir(), 'drctl-catalog-'));
}

/**
 * Writes `runbook` (JSON) into a catalog folder and returns it as loaded back, with its run target. A bundled
 * example (same id) is already in the catalog and is not written again.
 */
export function addToCatalog(
  dir: string,
  runbook: { id: string },
  variant?: 'failback',
): RunTarget & { file: string } {
  const example = loadCatalog().entries.find((entry) => entry.runbook.id === runbook.id);
  const file = example?.source ?? join(dir, `${runbook.id}.json`);
  if (!example) writeFileSync(file, JSON.stringify(runbook, null, 2));
  const loaded = loadRunbookFile(file);
  return {
    file,
    // As the CLI does: the worker derives a failback's steps from the failover it reverses.
    runbook: variant === 'failback' ? { id: failbackTarget(loaded).id } : loaded,
    reference: referenceTo(loaded, variant),
  };
}

/** A demo operator's signer (the sandbox seeds their keys in .sandbox/operators). */
export function signerOf(name: DemoOperator, options: { breakGlass?: boolean } = {}): OperatorSigner {
  return loadSigner(operatorPaths.keyFile(name), options);
}

export function keyFileOf(name: DemoOperator): string {
  return operatorPaths.keyFile(name);
}
