import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrctl } from './run-drctl';

const drctl = runDrctl;

const dir = mkdtempSync(join(tmpdir(), 'drctl-cli-'));

test('validate lists every problem with its path and exits 2', async () => {
  const file = join(dir, 'bad.json');
  writeFileSync(
    file,
    JSON.stringify({
      id: 'Bad Id',
      title: 't',
      owner: 'o',
      objectives: { rto: '5m' },
      steps: [{ id: 'a', kind: 'wait' }],
    }),
  );
  const result = await drctl(['validate', file]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('id: must be lower-case letters');
  expect(result.stderr).toContain('objectives.rpo: required');
  expect(result.stderr).toContain('steps[0].duration: required');
  expect(result.stderr).not.toMatch(/\n\s+at /);
});

test('validate --output json gives the issues to scripts', async () => {
  const file = join(dir, 'bad2.json');
  writeFileSync(
    file,
    JSON.stringify({ id: 'x', title: 't', owner: 'o', objectives: { rto: '5m', rpo: '1m' }, steps: [] }),
  );
  const result = await drctl(['validate', file, '--output', 'json']);
  expect(result.code).toBe(2);
  expect(JSON.parse(result.stdout).error).toMatchObject({
    code: 'RunbookInvalid',
    details: { issues: [{ path: 'steps', message: 'a runbook needs at least one step' }] },
  });
});

test('a valid example validates', async () => {
  const result = await drctl(['validate', 'ehr-db']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/ehr-db is valid \(7 steps/);
});

test('failover without a reason is refused before anything is contacted', async () => {
  const result = await drctl(['failover', 'ehr-db']);
  expect(result.code).toBe(2);
  expect(result.stderr).toBe(
    'drctl: --reason is required: say why (an incident id, a drill name); it is recorded with the run\n',
  );
});

test('an unknown runbook names the known ones', async () => {
  const result = await drctl(['failover', 'ehr-dbb', '--reason', 'x']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('no runbook "ehr-dbb". Known runbooks: ehr-db, patient-portal-rds');
});

test('Temporal unreachable is one clear message and exit 3, saying that nothing listens there', async () => {
  const result = await drctl(['plan', 'ehr-db', '--output', 'json'], { TEMPORAL_ADDRESS: '127.0.0.1:9' });
  expect(result.code).toBe(3);
  // Before: "Failed to connect before the deadline", after gRPC's 8 s, for a port that refused at once.
  expect(JSON.parse(result.stdout).error).toMatchObject({
    code: 'TemporalUnreachable',
    message: expect.stringContaining(
      'cannot reach Temporal at 127.0.0.1:9 (ECONNREFUSED: nothing accepts connections at 127.0.0.1:9',
    ),
  });
}, 30_000);

test('a Temporal address gRPC cannot parse is Temporal unreachable (exit 3) naming the address, not an unexpected error', async () => {
  const result = await drctl(['runs', '--output', 'json'], { TEMPORAL_ADDRESS: 'http://127.0.0.1:7233' });
  expect(result.code).toBe(3);
  expect(JSON.parse(result.stdout).error).toMatchObject({
    code: 'TemporalUnreachable',
    message: expect.stringContaining('cannot reach Temporal at http://127.0.0.1:7233 (Invalid address'),
  });
}, 30_000);

test('a drill schedule in an unknown time zone is bad input, refused before anything is contacted', async () => {
  // Temporal is unreachable here: the refusal comes first (before: "unknown time zone" from the server, exit 1).
  const result = await drctl(['drill', 'schedule', 'ehr-db', '--timezone', 'Mars/Olympus', '--reason', 'x'], {
    TEMPORAL_ADDRESS: '127.0.0.1:9',
  });
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr:
      'drctl: --timezone must be an IANA time zone such as UTC or Europe/Amsterdam (got "Mars/Olympus")\n',
  });
});

test('a usage error (unknown option) exits 2 with help', async () => {
  const result = await drctl(['failover', 'ehr-db', '--reasn', 'x']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("unknown option '--reasn'");
});

test('GIVEN no build (DRCTL_FROM_SOURCE=1) WHEN a command loads its modules lazily THEN it runs from the TypeScript sources', async () => {
  const run = await drctl(['validate', 'ehr-db', '--output', 'json'], { DRCTL_FROM_SOURCE: '1' });
  expect(run.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find module/);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, id: 'ehr-db' });
});
