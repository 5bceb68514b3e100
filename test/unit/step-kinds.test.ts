import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActivityPorts, KindActivitiesModule } from '../../activities/ports';
import { STEP_KINDS } from '../../kinds/registry';
import { kindFolder, nothingToUndo } from '../../kinds/step-kind';
import { DATABASE_PROVIDERS } from '../../providers/database/registry';
import type { StrategyModule } from '../../providers/database/strategy';
import { defineRunbook } from '../../runbooks/define-runbook';
import { RunbookValidationError } from '../../runbooks/runbook-validation-error';
import { FakePostgres } from '../fakes/fake-postgres';
import { FakeLagMetrics } from '../fakes/fake-lag-metrics';
import { FakeRds } from '../fakes/fake-rds';
import { FakeRoute53 } from '../fakes/fake-route53';
import { FakeS3 } from '../fakes/fake-s3';
import { FakeUnleash } from '../fakes/fake-unleash';

/**
 * The registry walk: every step kind and every database provider provides every part, its activities come from
 * its own folder and nowhere else, and each runs through its own valid and invalid cases (the shared tester).
 */
const KINDS_DIR = join(__dirname, '../../kinds');
const PROVIDERS_DIR = join(__dirname, '../../providers/database');

const BASE_TARGET = {
  provider: 'postgres',
  primary: { connection: 'p', endpoint: '10.0.0.2' },
  replica: { connection: 'r', endpoint: '10.0.0.3' },
  applicationRoles: ['ehr_app'],
};

function runbookWith(
  steps: Array<Record<string, unknown>>,
  databases: Record<string, unknown> = { db: BASE_TARGET },
) {
  return {
    id: 'kind-test',
    title: 'kind tester',
    owner: 'tests',
    objectives: { rto: '15m', rpo: '1m' },
    targets: { databases },
    steps,
  };
}

function issuesOf(input: ReturnType<typeof runbookWith>) {
  try {
    defineRunbook(input as Parameters<typeof defineRunbook>[0]);
    return [];
  } catch (error) {
    if (error instanceof RunbookValidationError) return error.issues;
    throw error;
  }
}

function fakePorts(): ActivityPorts {
  const unleash = new FakeUnleash();
  return {
    route53: new FakeRoute53(),
    s3: new FakeS3(),
    postgres: new FakePostgres(),
    rds: new FakeRds(),
    lagMetrics: new FakeLagMetrics(),
    unleashAdmin: unleash,
    unleashReader: unleash.reader(),
  };
}

describe.each(STEP_KINDS.map((kind) => [kind.kind, kind] as const))('step kind %s', (name, kind) => {
  const folder = join(KINDS_DIR, kindFolder(name));

  test('provides every part', () => {
    expect(kind.description.length).toBeGreaterThan(10);
    expect(typeof kind.mutates).toBe('boolean');
    expect(kind.schema.shape.kind.value).toBe(name);
    for (const part of ['crossCheck', 'preflight', 'plan', 'run', 'undo', 'failback'] as const) {
      expect(typeof kind[part]).toBe('function');
    }
    expect(kind.examples.valid.length).toBeGreaterThan(0);
    expect(kind.examples.invalid.length).toBeGreaterThan(0);
    expect(existsSync(join(folder, 'definition.ts'))).toBe(true);
  });

  test('a kind that changes the estate has an undo of its own', () => {
    if (kind.mutates) expect(kind.undo).not.toBe(nothingToUndo);
    else expect(kind.mutates).toBe(false);
  });

  test('its activities come from its own folder, exactly as declared', () => {
    const file = join(folder, 'activities.ts');
    if (kind.activityNames.length === 0) {
      expect(existsSync(file)).toBe(false);
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the worker loads it the same way.
    const module = require(file) as KindActivitiesModule;
    const provided = Object.keys(module.activitiesFromPorts(fakePorts())).sort();
    expect(provided).toEqual([...kind.activityNames].sort());
  });

  test('its pure half imports no I/O', () => {
    const source = readFileSync(join(folder, 'definition.ts'), 'utf8');
    expect(source).not.toMatch(
      /from '(node:|pg'|unleash-client|@aws-sdk|@temporalio\/(activity|worker|client))/,
    );
    expect(source).not.toMatch(/from '\.\/activities'/);
  });

  test.each(kind.examples.valid.map((example, index) => [index, example] as const))(
    'valid case %i validates',
    (_index, example) => {
      expect(issuesOf(runbookWith([...(example.before ?? []), example.step]))).toEqual([]);
    },
  );

  test.each(kind.examples.invalid.map((example, index) => [index, example] as const))(
    'invalid case %i is refused at its path',
    (_index, example) => {
      const at = (example.before ?? []).length;
      const issues = issuesOf(runbookWith([...(example.before ?? []), example.step]));
      expect(issues).toContainEqual({
        path: `steps[${at}]${example.path}`,
        message: expect.stringMatching(example.message),
      });
    },
  );

  test('its failback counterpart is valid in a runbook', () => {
    const example = kind.examples.valid[0]!;
    const input = runbookWith([...(example.before ?? []), example.step]);
    const runbook = defineRunbook(input as Parameters<typeof defineRunbook>[0]);
    const step = runbook.steps[runbook.steps.length - 1]!;
    const reversed = kind.failback(
      step as never,
      { flagsBefore: new Map() },
      { databases: runbook.targets.databases, promotedBefore: new Set() },
    );
    expect(Array.isArray(reversed)).toBe(true);
    for (const counterpart of reversed) expect((counterpart as { kind: string }).kind).toBe(name);
  });
});

test('no two kinds declare the same activity', () => {
  const names = STEP_KINDS.flatMap((kind) => [...kind.activityNames]);
  expect(new Set(names).size).toBe(names.length);
});

describe.each(DATABASE_PROVIDERS.map((provider) => [provider.provider, provider] as const))(
  'database provider %s',
  (name, provider) => {
    test('provides every part', () => {
      expect(provider.targetSchema.shape.provider.value).toBe(name);
      expect(provider.description.length).toBeGreaterThan(10);
      expect(typeof provider.failback).toBe('function');
      expect(provider.examples.valid.length).toBeGreaterThan(0);
      expect(provider.examples.invalid.length).toBeGreaterThan(0);
    });

    test('its strategy lives in its folder and implements every operation', () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the worker loads it the same way.
      const module = require(join(PROVIDERS_DIR, name, 'strategy')) as StrategyModule;
      const strategy = module.createStrategy({
        postgres: new FakePostgres(),
        rds: new FakeRds(),
        lagMetrics: new FakeLagMetrics(),
      });
      for (const operation of ['check', 'planFence', 'planPromote', 'fence', 'unfence', 'promote'] as const) {
        expect(typeof strategy[operation]).toBe('function');
      }
    });

    test.each(provider.examples.valid.map((target, index) => [index, target] as const))(
      'valid target %i validates',
      (_index, target) => {
        expect(issuesOf(runbookWith([{ id: 'wait', kind: 'wait', duration: '1s' }], { db: target }))).toEqual(
          [],
        );
      },
    );

    test.each(provider.examples.invalid.map((example, index) => [index, example] as const))(
      'invalid target %i is refused at its path',
      (_index, example) => {
        const issues = issuesOf(
          runbookWith([{ id: 'wait', kind: 'wait', duration: '1s' }], { db: example.target }),
        );
        expect(issues).toContainEqual({
          path: `targets.databases.db${example.path}`,
          message: expect.stringMatching(example.message),
        });
      },
    );
  },
);

describe('dns.switch pointing at an AWS database', () => {
  const rds = {
    provider: 'rds-instance',
    primary: { instanceId: 'portal-primary', region: 'us-east-1' },
    replica: { instanceId: 'portal-replica', region: 'us-west-2' },
    fence: 'none',
  };
  const steps = (type: string) => [
    { id: 'promote', kind: 'database.promote', database: 'portal' },
    {
      id: 'dns',
      kind: 'dns.switch',
      zone: { name: 'example.internal.' },
      records: [
        { name: 'portal.example.internal.', type, pointTo: { database: 'portal', member: 'replica' } },
      ],
    },
  ];

  test('GIVEN an A record WHEN validated THEN refused: an RDS endpoint is a name, which only a CNAME holds', () => {
    // Before: valid; Route 53 refused the A record holding a hostname (InvalidChangeBatch) after the promotion.
    expect(issuesOf(runbookWith(steps('A'), { portal: rds }))).toEqual([
      expect.objectContaining({
        path: 'steps[1].records[0].type',
        message: expect.stringMatching(
          /an A record cannot hold the endpoint of portal's replica \(a name\).*use type CNAME/,
        ),
      }),
    ]);
    expect(issuesOf(runbookWith(steps('CNAME'), { portal: rds }))).toEqual([]);
  });
});

describe('database.promote needs its fence first', () => {
  const promote = { id: 'promote', kind: 'database.promote', database: 'db' };
  const fence = { id: 'fence', kind: 'database.fence', database: 'db' };

  test('GIVEN the fence beside it in one parallel group WHEN validated THEN refused: the fence may not have finished', () => {
    const grouped = runbookWith([{ id: 'both', kind: 'parallel', steps: [fence, promote] }]);
    expect(issuesOf(grouped)).toEqual([
      expect.objectContaining({
        path: 'steps[0].steps[1].database',
        message: expect.stringMatching(/promoting "db" needs a database\.fence step for it first/),
      }),
    ]);
    // After it: valid. Before it: refused.
    expect(issuesOf(runbookWith([fence, promote]))).toEqual([]);
    expect(issuesOf(runbookWith([promote, { ...fence, id: 'late-fence' }])).map((i) => i.path)).toEqual([
      'steps[0].database',
    ]);
  });

  test('GIVEN an RDS instance whose fence is none, or Aurora WHEN validated without a fence THEN valid', () => {
    const gone = {
      provider: 'rds-instance',
      primary: { instanceId: 'p', region: 'us-east-1' },
      replica: { instanceId: 'r', region: 'us-west-2' },
      fence: 'none',
    };
    expect(issuesOf(runbookWith([promote], { db: gone }))).toEqual([]);
  });
});

test("GIVEN a literal DNS value naming an Aurora cluster's endpoint after its promotion WHEN validated THEN valid: it names no old primary", () => {
  const aurora = {
    provider: 'aurora-cluster',
    clusterId: 'c1',
    region: 'us-east-1',
    targetInstanceId: 'c1-reader',
  };
  const steps = [
    { id: 'promote', kind: 'database.promote', database: 'db' },
    {
      id: 'dns',
      kind: 'dns.switch',
      zone: { name: 'example.internal.' },
      records: [
        { name: 'db.example.internal.', type: 'CNAME', value: 'c1.cluster-abc.us-east-1.rds.amazonaws.com' },
      ],
    },
  ];
  expect(issuesOf(runbookWith(steps, { db: aurora }))).toEqual([]);
});
