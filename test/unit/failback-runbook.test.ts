import { failbackRunbook, FailbackUnsupportedError } from '../../runbooks/failback-runbook';
import ehrDb from '../../runbooks/examples/ehr-db';
import patientPortal from '../../runbooks/examples/patient-portal-rds';

test('the failback of ehr-db promotes the original primary, points DNS back and sets the flags back', () => {
  const back = failbackRunbook(ehrDb, {
    run: 'failover-ehr-db/run-1',
    flagsBefore: new Map([
      ['default/development/ehr-degraded-mode', false],
      ['default/development/ehr-read-only-banner', false],
    ]),
  });
  expect(back.id).toBe('ehr-db-failback');
  expect(back.targets.databases.ehr).toMatchObject({
    primary: { connection: 'ehr-replica', endpoint: '127.0.0.3' },
    replica: { connection: 'ehr-primary', endpoint: '127.0.0.2' },
  });
  const leaves = back.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  expect(leaves.map((step) => step.kind)).toEqual([
    'preflight',
    'flags.set',
    'database.fence',
    'database.promote',
    'dns.switch',
    'probe',
  ]);
  const flags = leaves.find((step) => step.kind === 'flags.set');
  expect(flags?.kind === 'flags.set' && flags.flags.every((flag) => !flag.enabled)).toBe(true);
  // Before: the failover's title, "Turn on degraded mode and the read-only banner", over an on → off change.
  expect(flags?.title).toBe('Flags back to their values before failover-ehr-db/run-1');
  expect(back.description).toContain('failover-ehr-db/run-1');
});

test('each flag goes back to the value the failover recorded, not the opposite of the step', () => {
  // GIVEN the banner was already on before the failover turned both flags on
  const back = failbackRunbook(ehrDb, {
    flagsBefore: new Map([
      ['default/development/ehr-degraded-mode', false],
      ['default/development/ehr-read-only-banner', true],
    ]),
  });
  const leaves = back.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  const flags = leaves.find((step) => step.kind === 'flags.set');
  // THEN the banner stays on and degraded mode goes off
  expect(flags?.kind === 'flags.set' && flags.flags).toEqual([
    { name: 'ehr-degraded-mode', enabled: false },
    { name: 'ehr-read-only-banner', enabled: true },
  ]);
});

test('without a recorded failover the failback leaves the flags alone rather than guess', () => {
  const back = failbackRunbook(ehrDb);
  const leaves = back.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  expect(leaves.some((step) => step.kind === 'flags.set')).toBe(false);
});

test('RDS runbooks have no automatic failback and say what to do instead', () => {
  expect(() => failbackRunbook(patientPortal)).toThrow(FailbackUnsupportedError);
  expect(() => failbackRunbook(patientPortal)).toThrow(/create a read replica in the original region/);
});
