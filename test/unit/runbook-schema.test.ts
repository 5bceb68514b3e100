import { defineRunbook } from '../../runbooks/define-runbook';
import { RunbookValidationError } from '../../runbooks/runbook-validation-error';
import ehrDb from '../../runbooks/examples/ehr-db';
import patientPortal from '../../runbooks/examples/patient-portal-rds';
import type { RunbookInput } from '../../runbooks/schema';

const valid: RunbookInput = {
  id: 'svc-db',
  title: 'Service database',
  owner: 'oncall',
  objectives: { rto: '15m', rpo: '1m' },
  targets: {
    databases: {
      main: {
        provider: 'postgres',
        primary: { connection: 'p', endpoint: '10.0.0.2' },
        replica: { connection: 'r', endpoint: '10.0.0.3' },
        applicationRoles: ['ehr_app'],
      },
    },
  },
  steps: [
    { id: 'preflight', kind: 'preflight' },
    { id: 'fence', kind: 'database.fence', database: 'main' },
    { id: 'promote', kind: 'database.promote', database: 'main' },
    {
      id: 'dns',
      kind: 'dns.switch',
      zone: { name: 'z.' },
      records: [{ name: 'db.z.', type: 'A', pointTo: { database: 'main', member: 'replica' } }],
    },
  ],
};

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    defineRunbook(input as RunbookInput);
  } catch (error) {
    expect(error).toBeInstanceOf(RunbookValidationError);
    return (error as RunbookValidationError).issues;
  }
  throw new Error('expected the runbook to be rejected');
}

test('a valid runbook gets every default filled in', () => {
  const runbook = defineRunbook(valid);
  const promote = runbook.steps[2]!;
  expect(promote).toMatchObject({
    timeout: '5m',
    onFailure: 'abort',
    retry: { maximumAttempts: 5, initialInterval: '1s' },
  });
  expect(runbook.targets.databases.main).toMatchObject({ maxLag: '30s' });
});

test('the bundled examples are valid', () => {
  expect(ehrDb.id).toBe('ehr-db');
  expect(patientPortal.targets.databases.portal?.provider).toBe('rds-instance');
});

test('every problem is listed at once, each with its path', () => {
  const issues = issuesOf({
    ...valid,
    objectives: { rto: 'soon', rpo: '1m' },
    steps: [
      { id: 'preflight', kind: 'preflight', onFailure: 'panic' },
      { id: 'dns', kind: 'dns.switch', zone: {}, records: [{ name: 'db.z.', type: 'MX', value: '1' }] },
      { id: 'x', kind: 'reboot' },
    ],
  });
  const byPath = Object.fromEntries(issues.map((issue) => [issue.path, issue.message]));
  expect(byPath['objectives.rto']).toMatch(/duration such as 250ms/);
  expect(byPath['steps[0].onFailure']).toMatch(/pause.*abort.*continue/);
  expect(byPath['steps[1].zone']).toMatch(/exactly one of name and id/);
  expect(byPath['steps[1].records[0].type']).toMatch(/A.*AAAA.*CNAME/);
  expect(byPath['steps[2].kind']).toMatch(/allowed: .*preflight/);
});

test('missing and unknown fields are named', () => {
  const issues = issuesOf({ ...valid, owner: undefined, colour: 'blue' });
  expect(issues).toEqual(
    expect.arrayContaining([
      { path: 'owner', message: 'required' },
      {
        path: '',
        message:
          'unknown field colour; allowed here: id, title, owner, description, objectives, mode, targets, steps',
      },
    ]),
  );
});

test('an unknown field is answered with the fields allowed where it stands, and the one meant when near', () => {
  const issues = issuesOf({
    ...valid,
    steps: [
      { id: 'fence', kind: 'database.fence', databse: 'main' },
      { id: 'pause', kind: 'wait', duration: '1s', tmeout: '5s', colour: 'blue' },
    ],
  });
  expect(issues).toEqual(
    expect.arrayContaining([
      {
        path: 'steps[0]',
        message: expect.stringMatching(
          /^unknown field databse; did you mean "database"\?; allowed here: .*\bdatabase\b/,
        ),
      },
      {
        path: 'steps[1]',
        message: expect.stringMatching(
          /^unknown fields tmeout, colour; did you mean "timeout" \(for tmeout\)\?; allowed here: .*\bduration\b/,
        ),
      },
    ]),
  );
});

test('references and order are checked across steps', () => {
  const issues = issuesOf({
    ...valid,
    steps: [
      {
        id: 'dns',
        kind: 'dns.switch',
        zone: { name: 'z.' },
        records: [{ name: 'db.z.', type: 'A', pointTo: { database: 'main', member: 'replica' } }],
      },
      { id: 'promote', kind: 'database.promote', database: 'mian' },
      { id: 'promote', kind: 'database.fence', database: 'main' },
    ],
  });
  expect(issues).toEqual(
    expect.arrayContaining([
      { path: 'steps[0].records[0].pointTo', message: expect.stringMatching(/confirmed writable/) },
      { path: 'steps[1].database', message: 'no database "mian" in targets.databases (declared: main)' },
      { path: 'steps[2].id', message: '"promote" is already used by steps[1]' },
    ]),
  );
});

test('DNS may not point at the old primary', () => {
  const steps = [...valid.steps];
  steps[3] = {
    id: 'dns',
    kind: 'dns.switch',
    zone: { name: 'z.' },
    records: [{ name: 'db.z.', type: 'A', pointTo: { database: 'main', member: 'primary' } }],
  };
  expect(issuesOf({ ...valid, steps }).map((issue) => issue.path)).toEqual(['steps[3].records[0].pointTo']);
});

test('a parallel group needs at least two steps and cannot nest', () => {
  const issues = issuesOf({
    ...valid,
    steps: [{ id: 'g', kind: 'parallel', steps: [{ id: 'w', kind: 'wait', duration: '1s' }] }],
  });
  expect(issues.map((issue) => issue.path)).toContain('steps[0].steps');
});
