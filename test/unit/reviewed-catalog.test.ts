import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReviewedCatalog } from '../../auth/io/reviewed-catalog';
import { ehr } from './database-targets';

/**
 * The worker reads its reviewed catalog at every run start, so an edit applies to the next run. It keeps what it
 * read while the files are unchanged (an evacuation's children each start by reading it), and reads again as soon
 * as any file is edited, replaced, added or removed.
 */
const runbook = (id: string, title: string) => ({
  id,
  title,
  owner: 'ehr-oncall',
  objectives: { rto: '5m', rpo: '1m' },
  targets: { databases: { ehr: ehr.target } },
  steps: [
    { id: 'preflight', kind: 'preflight' },
    { id: 'fence', kind: 'database.fence', database: 'ehr' },
    { id: 'promote', kind: 'database.promote', database: 'ehr' },
  ],
});

function catalogDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-reviewed-'));
  writeFileSync(join(dir, 'billing.json'), JSON.stringify(runbook('billing-db', 'Billing')));
  return dir;
}

describe('the reviewed catalog at each run start', () => {
  it('GIVEN no file changed WHEN read again THEN the same reviewed runbooks are given without reading them again', () => {
    const dir = catalogDir();
    const first = loadReviewedCatalog([dir]);
    expect(loadReviewedCatalog([dir])).toBe(first);
    expect(first.runbooks.get('billing-db')?.runbook.title).toBe('Billing');
  });

  it('GIVEN a runbook edited in place, even to the same size WHEN read again THEN the edit is what the next run gets', () => {
    const dir = catalogDir();
    const before = loadReviewedCatalog([dir]).runbooks.get('billing-db');
    writeFileSync(join(dir, 'billing.json'), JSON.stringify(runbook('billing-db', 'Billinh')));

    const after = loadReviewedCatalog([dir]).runbooks.get('billing-db');

    expect(after?.runbook.title).toBe('Billinh');
    expect(after?.sha256).not.toBe(before?.sha256);
  });

  it('GIVEN a runbook replaced by a rename, one added and one removed WHEN read again THEN each is seen', () => {
    const dir = catalogDir();
    loadReviewedCatalog([dir]);
    const staged = join(dir, 'billing.json.next');
    writeFileSync(staged, JSON.stringify(runbook('billing-db', 'Billing, reviewed again')));
    renameSync(staged, join(dir, 'billing.json'));
    writeFileSync(join(dir, 'ledger.json'), JSON.stringify(runbook('ledger-db', 'Ledger')));

    const replaced = loadReviewedCatalog([dir]);
    expect(replaced.runbooks.get('billing-db')?.runbook.title).toBe('Billing, reviewed again');
    expect([...replaced.runbooks.keys()].sort()).toEqual(['billing-db', 'ledger-db']);

    rmSync(join(dir, 'ledger.json'));
    expect([...loadReviewedCatalog([dir]).runbooks.keys()]).toEqual(['billing-db']);
  });

  it('GIVEN a runbook broken by an edit WHEN read again THEN it is reported broken and no longer runs', () => {
    const dir = catalogDir();
    loadReviewedCatalog([dir]);
    writeFileSync(
      join(dir, 'billing.json'),
      JSON.stringify({ ...runbook('billing-db', 'Billing'), steps: 'none' }),
    );

    const catalog = loadReviewedCatalog([dir]);

    expect(catalog.runbooks.has('billing-db')).toBe(false);
    expect(catalog.broken.map((entry) => entry.source)).toEqual([join(dir, 'billing.json')]);
  });
});
