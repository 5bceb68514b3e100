import { failbackRunbook, FailbackUnsupportedError } from '../../runbooks/failback-runbook';
import ehrDb from '../../runbooks/examples/ehr-db';
import patientPortal from '../../runbooks/examples/patient-portal-rds';

test('the failback of ehr-db promotes the original primary, points DNS back and sets the flags back', () => {
  const back = failbackRunbook(ehrDb);
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
});

test('RDS runbooks have no automatic failback and say what to do instead', () => {
  expect(() => failbackRunbook(patientPortal)).toThrow(FailbackUnsupportedError);
  expect(() => failbackRunbook(patientPortal)).toThrow(/create a read replica in the original region/);
});
