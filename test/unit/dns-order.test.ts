import { recordsToWrite } from '../../kinds/dns-switch/definition';
import type { StepOf } from '../../runbooks/schema';

const step: StepOf<'dns.switch'> = {
  id: 'dns',
  kind: 'dns.switch',
  zone: { name: 'z.' },
  checkResolution: true,
  timeout: '5m',
  onFailure: 'abort',
  retry: { maximumAttempts: 1, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1s' },
  records: [
    { name: 'db.z.', type: 'A', ttl: 30, pointTo: { database: 'main', member: 'replica' } },
    { name: 'static.z.', type: 'CNAME', ttl: 60, value: 'elsewhere.example.' },
  ],
};

test('records pointing at a database take the endpoint its promotion confirmed writable', () => {
  expect(recordsToWrite(step, new Map([['main', '10.0.0.3']]))).toEqual([
    { name: 'db.z.', type: 'A', ttl: 30, value: '10.0.0.3' },
    { name: 'static.z.', type: 'CNAME', ttl: 60, value: 'elsewhere.example.' },
  ]);
});

test('without a confirmed promotion the switch is refused, naming the database', () => {
  expect(() => recordsToWrite(step, new Map())).toThrow(/refusing to point db\.z\. at database "main"/);
});
