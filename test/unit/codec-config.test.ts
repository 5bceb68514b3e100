import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../worker/config';

/** `codec.knownKmsKeyArns`: the deployment's other KMS keys, whose runs' start statements the worker reads. */
describe('the codec settings', () => {
  const earlier = 'arn:aws:kms:us-east-1:111122223333:key/3c1e2f4a-9b8d-4e6f-a1b2-c3d4e5f60718';
  const multiRegion = 'arn:aws:kms:us-west-2:111122223333:key/mrk-5cd3c18c67af471c87996bb78424fc05';

  test('GIVEN no codec settings WHEN loaded THEN no known KMS keys', () => {
    expect(loadConfig({ env: {}, cwd: '/nonexistent' }).codec.knownKmsKeyArns).toEqual([]);
  });

  test('GIVEN known KMS key ARNs in the environment WHEN loaded THEN read comma-separated, trimmed', () => {
    const config = loadConfig({
      cwd: '/nonexistent',
      env: { DRCTL_CODEC_KNOWN_KMS_KEY_ARNS: ` ${earlier}, ${multiRegion},` },
    });
    expect(config.codec.knownKmsKeyArns).toEqual([earlier, multiRegion]);
  });

  test('GIVEN known KMS key ARNs in the config file WHEN loaded THEN read as listed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drctl-codec-config-'));
    writeFileSync(join(dir, 'drctl.config.json'), JSON.stringify({ codec: { knownKmsKeyArns: [earlier] } }));
    expect(loadConfig({ env: {}, cwd: dir }).codec.knownKmsKeyArns).toEqual([earlier]);
  });

  test.each([
    ['an alias', 'alias/drctl-codec'],
    ["an alias's ARN", 'arn:aws:kms:us-east-1:111122223333:alias/drctl-codec'],
    ['a bare key id', '3c1e2f4a-9b8d-4e6f-a1b2-c3d4e5f60718'],
  ])(
    'GIVEN %s among the known KMS keys WHEN loaded THEN refused, naming the setting and the form it takes',
    (_what, key) => {
      const load = () =>
        loadConfig({ cwd: '/nonexistent', env: { DRCTL_CODEC_KNOWN_KMS_KEY_ARNS: `${earlier},${key}` } });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(
        `codec.knownKmsKeyArns (DRCTL_CODEC_KNOWN_KMS_KEY_ARNS) lists "${key}": give each key by its key ARN (arn:aws:kms:<region>:<account>:key/<key id>)`,
      );
    },
  );

  test("GIVEN known KMS keys in the config file and a blank DRCTL_CODEC_KNOWN_KMS_KEY_ARNS WHEN loaded THEN the file's keys stay (before: the blank variable emptied the list)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'drctl-codec-config-'));
    writeFileSync(join(dir, 'drctl.config.json'), JSON.stringify({ codec: { knownKmsKeyArns: [earlier] } }));
    for (const blank of ['', '  '])
      expect(
        loadConfig({ env: { DRCTL_CODEC_KNOWN_KMS_KEY_ARNS: blank }, cwd: dir }).codec.knownKmsKeyArns,
      ).toEqual([earlier]);
  });

  test('GIVEN key ARNs of every AWS partition WHEN loaded THEN taken', () => {
    const arns = [
      'arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/3c1e2f4a-9b8d-4e6f-a1b2-c3d4e5f60718',
      'arn:aws-cn:kms:cn-north-1:111122223333:key/3c1e2f4a-9b8d-4e6f-a1b2-c3d4e5f60718',
      'arn:aws-iso-b:kms:us-isob-east-1:111122223333:key/mrk-5cd3c18c67af471c87996bb78424fc05',
    ];
    expect(
      loadConfig({ cwd: '/nonexistent', env: { DRCTL_CODEC_KNOWN_KMS_KEY_ARNS: arns.join(',') } }).codec
        .knownKmsKeyArns,
    ).toEqual(arns);
  });

  test.each([
    [
      'a partition that is not AWS',
      'arn:foo:kms:us-east-1:111122223333:key/3c1e2f4a-9b8d-4e6f-a1b2-c3d4e5f60718',
    ],
    ['a key id of hyphens', 'arn:aws:kms:us-east-1:111122223333:key/------------------------------------'],
    ['a region that is no region', 'arn:aws:kms:*:111122223333:key/mrk-5cd3c18c67af471c87996bb78424fc05'],
  ])('GIVEN %s in a known key ARN WHEN loaded THEN refused, naming the setting', (_what, arn) => {
    expect(() => loadConfig({ cwd: '/nonexistent', env: { DRCTL_CODEC_KNOWN_KMS_KEY_ARNS: arn } })).toThrow(
      `codec.knownKmsKeyArns (DRCTL_CODEC_KNOWN_KMS_KEY_ARNS) lists "${arn}"`,
    );
  });

  test('GIVEN known KMS keys that are not a list in the config file WHEN loaded THEN refused, naming the setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drctl-codec-config-'));
    writeFileSync(join(dir, 'drctl.config.json'), JSON.stringify({ codec: { knownKmsKeyArns: earlier } }));
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(
      `codec.knownKmsKeyArns (DRCTL_CODEC_KNOWN_KMS_KEY_ARNS) is "${earlier}": give a list of KMS key ARNs`,
    );
  });
});
