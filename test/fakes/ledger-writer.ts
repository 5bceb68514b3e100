import type { KeyObject } from 'node:crypto';
import type { ChainWriter } from '../../evidence/append-bundle';
import type { ChainLayout } from '../../evidence/layout';
import type { FakeEvidenceStore } from './fake-evidence-store';

/**
 * The evidence ledger's writer over a fake store (namespace `default`, 6 years of retention), with the clock it
 * stamps manifests by: a test passes one that ticks a second a call, as appends are seconds apart.
 */
export function ledgerWriter(
  store: FakeEvidenceStore,
  layout: ChainLayout,
  signingKey: KeyObject,
  now: () => Date,
): ChainWriter {
  return { store, layout, namespace: 'default', signingKey, retentionYears: 6, now };
}
