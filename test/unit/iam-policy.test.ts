import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { STEP_KINDS } from '../../kinds/registry';
import { DATABASE_PROVIDERS } from '../../providers/database/registry';
import { defineRunbook } from '../../runbooks/define-runbook';
import patientPortal from '../../runbooks/examples/patient-portal-rds';
import ehrDb from '../../runbooks/examples/ehr-db';
import type { Runbook, RunbookInput } from '../../runbooks/schema';
import { composeIamPolicy, type IamPolicyOptions } from '../../security/iam/compose-policy';
import { KIND_IAM } from '../../security/iam/kind-declarations';
import { parseIamPolicyOptions } from '../../security/iam/policy-options';
import { PROVIDER_IAM } from '../../security/iam/provider-declarations';
import { runDrctl } from './run-drctl';

const ROOT = resolve(__dirname, '../..');

/** IAM's service prefix of each AWS SDK v3 client package the product imports. */
const SERVICE_OF_CLIENT: Record<string, string> = {
  'client-rds': 'rds',
  'client-ec2': 'ec2',
  'client-route-53': 'route53',
  'client-s3': 's3',
  'client-cloudwatch': 'cloudwatch',
  'client-kms': 'kms',
  'client-secrets-manager': 'secretsmanager',
};

/** Where an API's IAM action is not named after it (AWS Service Authorization Reference, per service). */
const ACTION_OF_API: Record<string, string> = {
  's3:HeadObject': 's3:GetObject',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:ListObjectVersions': 's3:ListBucketVersions',
  's3:GetObjectLockConfiguration': 's3:GetBucketObjectLockConfiguration',
};

/**
 * Commands a product adapter can send that no failover, failback or worker statement needs, and why. The test
 * checks each is still sent (a stale entry fails) and by nothing but the path named.
 */
const NOT_IN_A_RUNBOOK_POLICY: Record<string, { why: string; onlyCalledFrom: string }> = {
  'rds:StopDBInstance': {
    why: 'drill failure injection stops the primary (activities/drill/inject-failure.ts), not a failover step',
    onlyCalledFrom: 'activities/drill/inject-failure.ts',
  },
  'rds:StartDBInstance': {
    why: 'no step starts an instance (the port keeps it for drills and tests)',
    onlyCalledFrom: '',
  },
};

function productSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return productSources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** `new XxxCommand(` in every product module, as the IAM action it needs (`service:Xxx`), with where it is. */
function commandsSentByProduct(): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  const dirs = [
    'activities',
    'kinds',
    'providers',
    'security',
    'worker',
    'evidence',
    'auth',
    'common',
    'cli',
  ];
  for (const file of dirs.flatMap((d) => productSources(join(ROOT, d)))) {
    const source = readFileSync(file, 'utf8');
    const clientOf = new Map<string, string>();
    for (const match of source.matchAll(/import\s*{([^}]*)}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g)) {
      for (const name of match[1]!.split(',')) {
        const command = name.replace(/^\s*type\s+/, '').trim();
        if (command.endsWith('Command')) clientOf.set(command, match[2]!);
      }
    }
    for (const match of source.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\(/g)) {
      const client = clientOf.get(`${match[1]!}Command`);
      if (client === undefined)
        throw new Error(`${file}: ${match[1]}Command is not imported from an @aws-sdk client`);
      const service = SERVICE_OF_CLIENT[client];
      if (service === undefined)
        throw new Error(`${file}: no IAM service prefix known for @aws-sdk/${client}`);
      const api = `${service}:${match[1]!}`;
      const action = ACTION_OF_API[api] ?? api;
      sent.set(action, [...(sent.get(action) ?? []), relative(ROOT, file)]);
    }
  }
  return sent;
}

function runbookWith(
  databases: Record<string, Record<string, unknown>>,
  mode: 'planned' | 'unplanned',
): Runbook {
  return defineRunbook({
    id: `iam-${mode}`,
    title: 'every provider and kind',
    owner: 'test',
    objectives: { rto: '30m', rpo: '5m' },
    mode,
    targets: { databases },
    steps: Object.keys(databases).flatMap((database) => [
      { id: `fence-${database}`, kind: 'database.fence' as const, database },
      { id: `promote-${database}`, kind: 'database.promote' as const, database },
    ]),
  } as unknown as RunbookInput);
}

/** Runbooks that together use every kind and, in both modes, every provider's first valid example. */
function runbooksCoveringEveryDeclaration(): Runbook[] {
  const databases = Object.fromEntries(
    DATABASE_PROVIDERS.map((p) => [p.provider.replace(/-/g, ''), p.examples.valid[0]!]),
  );
  return [patientPortal, ehrDb, runbookWith(databases, 'planned'), runbookWith(databases, 'unplanned')];
}

const EVERY_WORKER_OPTION: IamPolicyOptions = {
  account: '123456789012',
  worker: {
    codecKeys: [
      { keyId: 'alias/drctl-codec', region: 'us-east-1' },
      {
        keyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        region: 'us-east-1',
      },
    ],
    secrets: [{ name: 'drctl/ehr-primary', region: 'us-east-1' }],
    evidence: {
      bucket: 'dr-evidence',
      prefix: 'drctl-evidence/',
      kmsKey: { keyId: 'alias/drctl-evidence', region: 'us-east-1' },
    },
  },
};

describe('IAM declarations cover every AWS call', () => {
  it('GIVEN every SDK command a product adapter sends WHEN policies are composed for runbooks using every kind and provider THEN each command is allowed by some declaration', () => {
    const sent = commandsSentByProduct();
    const declared = new Set(
      runbooksCoveringEveryDeclaration().flatMap((runbook) =>
        composeIamPolicy(runbook, EVERY_WORKER_OPTION).policy.Statement.flatMap((s) => s.Action),
      ),
    );

    const undeclared = [...sent.keys()].filter((a) => !declared.has(a) && !(a in NOT_IN_A_RUNBOOK_POLICY));

    expect(sent.size).toBeGreaterThan(20);
    expect(undeclared.map((a) => `${a} (sent by ${sent.get(a)!.join(', ')})`)).toEqual([]);
  });

  it('GIVEN the commands left out of runbook policies WHEN the product is scanned THEN each is still sent, and no failover path calls it', () => {
    const sent = commandsSentByProduct();
    for (const [action, { onlyCalledFrom }] of Object.entries(NOT_IN_A_RUNBOOK_POLICY)) {
      expect(sent.has(action)).toBe(true);
      const method = action === 'rds:StopDBInstance' ? 'stopInstance' : 'startInstance';
      const callers = ['activities', 'kinds', 'providers', 'worker', 'evidence']
        .flatMap((d) => productSources(join(ROOT, d)))
        .filter((file) => readFileSync(file, 'utf8').includes(`.${method}(`))
        .map((file) => relative(ROOT, file));
      expect(callers).toEqual(onlyCalledFrom === '' ? [] : [onlyCalledFrom]);
    }
  });

  it('GIVEN the registries WHEN their names are listed THEN every kind and every provider has an IAM declaration', () => {
    expect(Object.keys(KIND_IAM).sort()).toEqual(STEP_KINDS.map((k) => k.kind).sort());
    expect(Object.keys(PROVIDER_IAM).sort()).toEqual(DATABASE_PROVIDERS.map((p) => p.provider).sort());
  });
});

describe('composeIamPolicy', () => {
  const portal = composeIamPolicy(patientPortal, { account: '123456789012' });
  const statement = (sid: string) => portal.policy.Statement.find((s) => s.Sid === sid);

  it('GIVEN patient-portal-rds WHEN composed THEN each AWS step has statements whose Sids name it, scoped to its instance, zone records and UPSERT', () => {
    expect(portal.policy.Version).toBe('2012-10-17');
    expect(portal.groups.map((g) => g.step?.id)).toEqual(['fence-primary', 'promote-replica', 'switch-dns']);
    expect(statement('FencePrimaryFence')).toEqual({
      Sid: 'FencePrimaryFence',
      Effect: 'Allow',
      Action: [
        'rds:AddTagsToResource',
        'rds:ModifyDBInstance',
        'rds:RebootDBInstance',
        'rds:RemoveTagsFromResource',
      ],
      Resource: ['arn:aws:rds:us-east-1:123456789012:db:patient-portal-primary'],
    });
    expect(statement('PromoteReplicaPromote')).toMatchObject({
      Action: ['rds:PromoteReadReplica'],
      Resource: ['arn:aws:rds:us-west-2:123456789012:db:patient-portal-replica'],
    });
    expect(statement('SwitchDnsChange')?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['portal-db.sandbox.drctl.internal'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
        'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE', 'UPSERT'],
      },
    });
    // Flags go to Unleash, not AWS: the flag steps get no statement.
    expect(portal.policy.Statement.some((s) => /^Maintenance/.test(s.Sid))).toBe(false);
  });

  it('GIVEN any runbook WHEN composed THEN Sids are unique and letters and digits only, and no action or resource is empty', () => {
    for (const runbook of runbooksCoveringEveryDeclaration()) {
      const { Statement } = composeIamPolicy(runbook, EVERY_WORKER_OPTION).policy;
      expect(new Set(Statement.map((s) => s.Sid)).size).toBe(Statement.length);
      for (const s of Statement) {
        expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
        expect(s.Action.length).toBeGreaterThan(0);
        expect(s.Resource.length).toBeGreaterThan(0);
        for (const action of s.Action) expect(action).toMatch(/^[a-z0-9]+:[A-Z][A-Za-z0-9]+$/);
      }
    }
  });

  it('GIVEN an Aurora Global Database WHEN planned or unplanned THEN the promotion allows only the operation that mode calls', () => {
    const [, , planned, unplanned] = runbooksCoveringEveryDeclaration();
    const actions = (runbook: Runbook) =>
      composeIamPolicy(runbook)
        .policy.Statement.filter((s) => s.Sid.startsWith('PromoteAuroraglobal'))
        .flatMap((s) => s.Action);
    expect(actions(planned!)).toContain('rds:SwitchoverGlobalCluster');
    expect(actions(planned!)).not.toContain('rds:FailoverGlobalCluster');
    expect(actions(unplanned!)).toContain('rds:FailoverGlobalCluster');
    expect(actions(unplanned!)).not.toContain('rds:SwitchoverGlobalCluster');
  });

  it('GIVEN ehr-db WHEN composed THEN backups.verify reads only its bucket and prefix, with the retention a lock check needs', () => {
    const ehr = composeIamPolicy(ehrDb);
    const backups = ehr.policy.Statement.filter((s) => s.Action.some((a) => a.startsWith('s3:')));
    expect(backups.flatMap((s) => s.Action).sort()).toEqual([
      's3:GetBucketObjectLockConfiguration',
      's3:GetBucketVersioning',
      's3:GetObject',
      's3:GetObjectRetention',
      's3:ListBucket',
    ]);
    expect(backups.flatMap((s) => s.Resource).every((r) => r.startsWith('arn:aws:s3:::'))).toBe(true);
  });
});

describe('the worker statements', () => {
  it('GIVEN a codec alias and an older key WHEN composed THEN the alias is granted through kms:ResourceAliases, the older key may only decrypt', () => {
    const { Statement } = composeIamPolicy(patientPortal, EVERY_WORKER_OPTION).policy;
    expect(Statement.find((s) => s.Sid === 'WorkerCodecEncrypt')).toEqual({
      Sid: 'WorkerCodecEncrypt',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: ['arn:aws:kms:us-east-1:123456789012:key/*'],
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/drctl-codec'] } },
    });
    expect(Statement.find((s) => s.Sid === 'WorkerCodecDecrypt')).toMatchObject({
      Action: ['kms:Decrypt'],
      Resource: ['arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    });
    // S3 calls KMS as the worker for SSE-KMS evidence objects: GenerateDataKey on PUT, Decrypt on GET.
    expect(Statement.find((s) => s.Sid === 'WorkerEvidenceEncrypt')).toEqual({
      Sid: 'WorkerEvidenceEncrypt',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: ['arn:aws:kms:us-east-1:123456789012:key/*'],
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/drctl-evidence'] } },
    });
    expect(Statement.find((s) => s.Sid === 'WorkerSecrets')?.Resource).toEqual([
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:drctl/ehr-primary-??????',
    ]);
  });
});

describe('drctl iam-policy options', () => {
  it("GIVEN the evidence bucket's Region WHEN its KMS key is a bare id THEN it is granted in that Region, not --region's", () => {
    const options = parseIamPolicyOptions({
      account: '123456789012',
      region: 'us-east-1',
      evidenceBucket: 'dr-evidence',
      evidenceRegion: 'us-west-2',
      evidenceKmsKey: 'mrk-1234abcd12ab34cd56ef1234567890ab',
    });
    const { Statement } = composeIamPolicy(patientPortal, options).policy;
    expect(Statement.find((s) => s.Sid === 'WorkerEvidenceEncrypt')?.Resource).toEqual([
      'arn:aws:kms:us-west-2:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab',
    ]);
  });

  it.each([
    [{ account: '12345' }, '--account', /12 digits/],
    [{ partition: 'azure' }, '--partition', /aws, aws-us-gov, aws-cn/],
    [{ region: 'east' }, '--region', /Region name/],
    [{ kmsKey: ['alias/ok', 'not a key'] }, '--kms-key', /KMS key/],
    [{ secret: ['bad name!'] }, '--secret', /secret name/],
    [{ evidenceBucket: 'Bad_Bucket' }, '--evidence-bucket', /bucket name/],
    [{ evidencePrefix: 'x/' }, '--evidence-prefix', /needs --evidence-bucket/],
    [{ evidenceKmsKey: 'alias/x' }, '--evidence-kms-key', /needs --evidence-bucket/],
    [
      { evidenceBucket: 'dr-evidence', evidenceKmsKey: 'my key' },
      '--evidence-kms-key',
      /KMS key id, alias or key ARN/,
    ],
    [
      { evidenceBucket: 'dr-evidence', evidenceKmsKey: 'alias/e', evidenceRegion: 'west' },
      '--evidence-region',
      /Region name/,
    ],
  ])('GIVEN %j WHEN parsed THEN the error names %s', (raw, field, message) => {
    expect(() => parseIamPolicyOptions(raw)).toThrow(
      expect.objectContaining({ field, message: expect.stringMatching(message) }),
    );
  });
});

const drctl = (args: string[]) => runDrctl(args);

describe('drctl iam-policy (the real CLI)', () => {
  it('GIVEN patient-portal-rds WHEN printed as JSON THEN stdout is the policy document the composer builds', async () => {
    const out = await drctl([
      'iam-policy',
      'patient-portal-rds',
      '--account',
      '123456789012',
      '--output',
      'json',
    ]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(portalPolicy());
  });

  it('GIVEN patient-portal-rds WHEN printed as text THEN each step is named with its actions', async () => {
    const out = await drctl(['iam-policy', 'patient-portal-rds']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /step promote-replica \(database\.promote\)[\s\S]*PromoteReplicaPromote[\s\S]*rds:PromoteReadReplica/,
    );
  });

  it('GIVEN a bad account id or an unknown runbook WHEN run THEN exit 2 naming the field, nothing on stdout', async () => {
    const bad = await drctl(['iam-policy', 'patient-portal-rds', '--account', '12', '--output', 'json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      error: { code: 'BadOption', details: { field: '--account' } },
    });
    const unknown = await drctl(['iam-policy', 'no-such-runbook']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no runbook "no-such-runbook"/);
    expect(unknown.stdout).toBe('');
  });
});

function portalPolicy() {
  return composeIamPolicy(patientPortal, parseIamPolicyOptions({ account: '123456789012' })).policy;
}
