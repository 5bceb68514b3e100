import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findRunbook, loadCatalog } from '../../runbooks/catalog';
import { runDrctl } from './run-drctl';

/**
 * What a runbook author sees from the real `bin/drctl validate`: warnings for what validates but endangers the
 * objectives, and a syntax error with its line, column and what the parser expected.
 */

/** Where nothing listens: validate must not need Temporal. */
const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:9' };

const drctl = (args: string[]) => runDrctl(args, NO_TEMPORAL);

const dir = mkdtempSync(join(tmpdir(), 'drctl-authoring-'));

const slowStep = {
  id: 'billing-db',
  title: 'Billing database',
  owner: 'billing-oncall',
  objectives: { rto: '5m', rpo: '1m' },
  targets: {
    databases: {
      billing: {
        provider: 'postgres',
        primary: { connection: 'billing-primary', endpoint: '10.0.0.2' },
        replica: { connection: 'billing-replica', endpoint: '10.0.0.3' },
        applicationRoles: ['billing_app'],
      },
    },
  },
  steps: [
    { id: 'preflight', kind: 'preflight' },
    { id: 'fence', kind: 'database.fence', database: 'billing' },
    { id: 'promote', kind: 'database.promote', database: 'billing', timeout: '2h' },
  ],
};

describe('drctl validate warns about what endangers the objectives', () => {
  const file = join(dir, 'billing-db.json');
  beforeAll(() => writeFileSync(file, JSON.stringify(slowStep)));

  it('prints the warning with its path, and still exits 0 (the runbook is valid)', async () => {
    const { code, stdout, stderr } = await drctl(['validate', file]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/billing-db is valid/);
    expect(stdout + stderr).toMatch(/steps\[2\]\.timeout: 2h is longer than the RTO objective \(5m\)/);
  });

  it('lists the warnings in --output json', async () => {
    const { code, stdout } = await drctl(['validate', file, '--output', 'json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { valid: boolean; warnings: { path: string; message: string }[] };
    expect(parsed.valid).toBe(true);
    expect(parsed.warnings).toEqual([
      expect.objectContaining({ path: 'steps[2].timeout', message: expect.stringMatching(/RTO objective/) }),
    ]);
  });
});

describe('a runbook file with a syntax error', () => {
  it('names the file, the line and column, and what the parser expected', async () => {
    const file = join(dir, 'syntax.ts');
    writeFileSync(file, "export default { id: 'syntax', title: 'oops' steps: [] };\n");
    const { code, stderr } = await drctl(['validate', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/syntax\.ts:1:45: ERROR: Expected "}" but found "steps"/);
  });
});

describe('runbook ids in DRCTL_RUNBOOKS_DIR', () => {
  const ownDir = mkdtempSync(join(tmpdir(), 'drctl-own-'));
  const otherDir = mkdtempSync(join(tmpdir(), 'drctl-other-'));
  beforeAll(() => {
    const ehrCopy = { ...slowStep, id: 'ehr-db', title: 'Our reviewed ehr-db' };
    writeFileSync(join(ownDir, 'ehr-db.json'), JSON.stringify(ehrCopy));
    writeFileSync(join(ownDir, 'billing.json'), JSON.stringify(slowStep));
    writeFileSync(join(otherDir, 'billing-copy.json'), JSON.stringify({ ...slowStep, title: 'Another' }));
  });

  it('GIVEN your own copy of a bundled example WHEN named by id THEN your copy is used, not the example', () => {
    const { runbook, source } = findRunbook('ehr-db', [ownDir]);
    expect(runbook.title).toBe('Our reviewed ehr-db');
    expect(source).toBe(join(ownDir, 'ehr-db.json'));
    const ids = loadCatalog([ownDir]).entries.map((entry) => entry.runbook.id);
    expect(ids.filter((id) => id === 'ehr-db')).toHaveLength(1);
  });

  it('GIVEN your own copy of a bundled example that is broken WHEN named by id THEN its problems are said, never the example run', () => {
    // Before: "ehr-db is valid (… from runbooks/examples/ehr-db.ts)": the example silently took the broken copy's place.
    const brokenDir = mkdtempSync(join(tmpdir(), 'drctl-broken-'));
    writeFileSync(
      join(brokenDir, 'ehr-db.json'),
      JSON.stringify({
        ...slowStep,
        id: 'ehr-db',
        steps: [{ id: 'w', kind: 'wait', duration: '1s', timeout: '0s' }],
      }),
    );
    expect(() => findRunbook('ehr-db', [brokenDir])).toThrow(/steps\[0\]\.timeout/);
    expect(loadCatalog([brokenDir]).entries.map((entry) => entry.runbook.id)).not.toContain('ehr-db');
  });

  it('GIVEN two of your files with one id WHEN named by id THEN neither is used and both files are named', () => {
    const { entries, broken } = loadCatalog([ownDir, otherDir]);
    expect(entries.map((entry) => entry.runbook.id)).not.toContain('billing-db');
    expect(broken.map((entry) => entry.source).sort()).toEqual(
      [join(otherDir, 'billing-copy.json'), join(ownDir, 'billing.json')].sort(),
    );
    expect(() => findRunbook('billing-db', [ownDir, otherDir])).toThrow(/billing-db/);
    expect(() => findRunbook('billing-db', [ownDir, otherDir])).not.toThrow(/no runbook/);
  });

  it('GIVEN the same folder twice (or the examples folder itself) THEN each file counts once', () => {
    const { entries, broken } = loadCatalog([ownDir, ownDir, resolve(__dirname, '../../runbooks/examples')]);
    expect(broken).toEqual([]);
    expect(entries.map((entry) => entry.runbook.id).sort()).toEqual([
      'billing-db',
      'ehr-db',
      'patient-portal-rds',
    ]);
  });
});

describe('a runbook folder that does not exist', () => {
  it('GIVEN a typo in DRCTL_RUNBOOKS_DIR WHEN a runbook is not found THEN the error names the missing folder', () => {
    expect(() => findRunbook('billing-db', ['/nonexistent/drctl-runbooks'])).toThrow(
      /runbook folders do not exist \(check DRCTL_RUNBOOKS_DIR\): \/nonexistent\/drctl-runbooks/,
    );
  });
});
