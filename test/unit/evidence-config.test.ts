import { evidenceKindOf } from '../../activities/evidence/collect-run';
import ehrDb from '../../runbooks/examples/ehr-db';
import { failbackRunbook } from '../../runbooks/failback-runbook';
import { ConfigError, loadConfig } from '../../worker/config';

describe('evidence settings', () => {
  test('GIVEN no evidence settings WHEN loaded THEN the defaults: 6 years, the drctl-evidence queue, no bucket', () => {
    const config = loadConfig({ env: {}, cwd: '/nonexistent' });
    expect(config.evidence).toEqual({
      prefix: 'drctl-evidence/',
      publicKeyFiles: [],
      retentionYears: 6,
      taskQueue: 'drctl-evidence',
    });
  });

  test('GIVEN the environment WHEN loaded THEN every evidence setting is read, public keys comma-separated', () => {
    const config = loadConfig({
      cwd: '/nonexistent',
      env: {
        DRCTL_EVIDENCE_BUCKET: 'acme-evidence',
        DRCTL_EVIDENCE_REGION: 'us-west-2',
        DRCTL_EVIDENCE_KMS_KEY_ID: 'alias/drctl-evidence',
        DRCTL_EVIDENCE_PREFIX: 'dr/',
        DRCTL_EVIDENCE_SIGNING_KEY_FILE: '/etc/drctl/evidence.pem',
        DRCTL_EVIDENCE_PUBLIC_KEY_FILES: '/etc/drctl/2026.pub, /etc/drctl/2027.pub',
        DRCTL_EVIDENCE_RETENTION_YEARS: '7',
        DRCTL_EVIDENCE_TASK_QUEUE: 'evidence',
      },
    });
    expect(config.evidence).toEqual({
      bucket: 'acme-evidence',
      region: 'us-west-2',
      kmsKeyId: 'alias/drctl-evidence',
      prefix: 'dr/',
      signingKeyFile: '/etc/drctl/evidence.pem',
      publicKeyFiles: ['/etc/drctl/2026.pub', '/etc/drctl/2027.pub'],
      retentionYears: 7,
      taskQueue: 'evidence',
    });
  });

  test('GIVEN an evidence KMS key that is no key id, alias or ARN WHEN loaded THEN refused, naming the setting', () => {
    expect(() =>
      loadConfig({ cwd: '/nonexistent', env: { DRCTL_EVIDENCE_KMS_KEY_ID: 'drctl evidence' } }),
    ).toThrow(
      'evidence.kmsKeyId (DRCTL_EVIDENCE_KMS_KEY_ID) is "drctl evidence": give a KMS key id, alias (alias/name) or key ARN',
    );
  });

  test('GIVEN a retention under six years WHEN loaded THEN refused, naming the setting and the rule', () => {
    expect(() => loadConfig({ cwd: '/nonexistent', env: { DRCTL_EVIDENCE_RETENTION_YEARS: '5' } })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ cwd: '/nonexistent', env: { DRCTL_EVIDENCE_RETENTION_YEARS: '5' } })).toThrow(
      'evidence.retentionYears (DRCTL_EVIDENCE_RETENTION_YEARS) is 5: it must be a whole number of years, at least 6 (45 CFR 164.316(b)(2))',
    );
  });
});

test('a bundle names its run a failover, a failback (the derived runbook) or a drill', () => {
  expect(evidenceKindOf('failoverWorkflow', ehrDb)).toBe('failover');
  expect(evidenceKindOf('failoverWorkflow', failbackRunbook(ehrDb))).toBe('failback');
  expect(evidenceKindOf('drillWorkflow', ehrDb)).toBe('drill');
  expect(evidenceKindOf('planWorkflow', ehrDb)).toBeUndefined();
});
