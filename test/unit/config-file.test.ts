import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../cli/cli-error';
import { toCliError } from '../../cli/to-cli-error';
import { drctlConfigFor, drctlTlsConfigFor } from '../../sandbox/stack-files';
import type { StackInfo } from '../../sandbox/stack-info';
import { ConfigError, loadConfig } from '../../worker/config';
import { runDrctl } from './run-drctl';

/** The config file's shape is checked when it is read: a wrong type or an unknown name is refused, naming it. */
const dir = mkdtempSync(join(tmpdir(), 'drctl-config-file-'));
let files = 0;

/** A config file holding `content` (JSON unless a string), in a fresh folder. */
function configFile(content: unknown): string {
  const file = join(dir, `config-${++files}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The ConfigError loading `content` as the config file throws. */
function refusal(content: unknown): ConfigError {
  const file = configFile(content);
  try {
    loadConfig({ file, env: {}, cwd: dir });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`${JSON.stringify(content)} loaded`);
}

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/3c1e2f4a-9b8d-4e6f-a1b2-c3d4e5f60718';

/** Every setting DrctlConfig has, each with a value of its type. */
const EVERY_SETTING = {
  temporal: {
    address: 'temporal.internal:7233',
    httpAddress: 'temporal.internal:7243',
    namespace: 'ehr',
    taskQueue: 'drctl-ehr',
    apiKey: 'api-key',
    tls: true,
    maxConcurrentActivities: 2_000,
    tlsCertPath: '/etc/drctl/client.crt',
    tlsCertData: '-----BEGIN CERTIFICATE-----',
    tlsKeyPath: '/etc/drctl/client.key',
    tlsKeyData: '-----BEGIN PRIVATE KEY-----',
    tlsCaPath: '/etc/drctl/ca.crt',
    tlsCaData: '-----BEGIN CERTIFICATE-----',
    tlsServerName: 'temporal.internal',
    tlsDisableHostVerification: false,
  },
  aws: {
    region: 'us-west-2',
    endpoint: 'http://127.0.0.1:5000',
    pacing: { route53: { burst: 50, perSecond: 5 } },
  },
  unleash: {
    url: 'http://127.0.0.1:4242',
    adminToken: 'admin-token',
    clientToken: { secret: 'drctl/unleash/client-token' },
  },
  postgres: {
    connections: {
      'ehr-primary': 'postgres://drctl@db.internal:5432/ehr',
      'ehr-replica': { secret: 'drctl/ehr-replica' },
    },
  },
  secrets: { cacheTtlMs: 30_000 },
  codec: {
    enabled: true,
    kmsKeyId: 'alias/drctl-codec',
    knownKmsKeyArns: [KEY_ARN],
    keyringFile: '/etc/drctl/keyring.json',
    dataKeyMaxAgeMs: 60_000,
    dataKeyMaxUses: 500,
  },
  codecServer: {
    listen: '127.0.0.1:8089',
    allowedOrigins: ['http://127.0.0.1:8233'],
    token: { secret: 'drctl/codec-server/token' },
  },
  operator: { keyFile: '/home/erin/.config/drctl/operator-key.json' },
  access: {
    policyFile: '/etc/drctl/access-policy.json',
    catalogDirs: ['/srv/runbooks'],
    evacuationDirs: ['/srv/evacuations'],
  },
  drill: { injections: { 'stop-primary-vm': ['/usr/local/bin/stop-vm', 'ehr'] } },
  evidence: {
    bucket: 'acme-evidence',
    region: 'us-east-1',
    kmsKeyId: 'alias/drctl-evidence',
    prefix: 'dr/',
    signingKeyFile: '/etc/drctl/evidence.pem',
    publicKeyFiles: ['/etc/drctl/evidence.pub'],
    retentionYears: 7,
    taskQueue: 'drctl-evidence-ehr',
  },
};

describe('a config file with a value of the wrong type', () => {
  test('GIVEN temporal.address 12 WHEN loaded THEN a ConfigError naming the setting, the number given and that it must be a string (before: loaded as it was, and `drctl runs` failed later with "Failed to list workflows", exit 1)', () => {
    const file = configFile({ temporal: { address: 12 } });
    expect(() => loadConfig({ file, env: {}, cwd: dir })).toThrow(
      new ConfigError(`config file ${file}: temporal.address: must be a string (got number 12)`),
    );
  });

  test.each([
    [{ temporal: { tls: 'yes' } }, 'temporal.tls: must be true or false (got the string "yes")'],
    [
      { temporal: { maxConcurrentActivities: 0 } },
      'temporal.maxConcurrentActivities: must be greater than 0 (got number 0)',
    ],
    [{ secrets: { cacheTtlMs: 1.5 } }, 'secrets.cacheTtlMs: must be a whole number (got number 1.5)'],
    [{ codec: { enabled: 'on' } }, 'codec.enabled: must be true or false (got the string "on")'],
    [
      { access: { catalogDirs: '/srv/a:/srv/b' } },
      'access.catalogDirs: must be an array (a list) (got the string "/srv/a:/srv/b")',
    ],
    [
      { unleash: { adminToken: 42 } },
      'unleash.adminToken: must be the value itself (a string) or {"secret": "<name of a Secrets Manager secret>"} (got number 42)',
    ],
    [
      { postgres: { connections: { 'ehr-primary': { secret: '' } } } },
      'postgres.connections.ehr-primary.secret: must not be empty',
    ],
    [
      { drill: { injections: { 'stop-primary-vm': 'stop-vm ehr' } } },
      'drill.injections.stop-primary-vm: must be an array (a list) (got the string "stop-vm ehr")',
    ],
    [{ evidence: { retentionYears: '7' } }, 'evidence.retentionYears: must be a number (got the string "7")'],
    [{ temporal: null }, 'temporal: must be an object (got null)'],
  ])(
    'GIVEN %j WHEN loaded THEN refused, naming the setting, what it holds and what is allowed (before: taken as given)',
    (content, problem) => {
      expect(refusal(content).message).toMatch(new RegExp(`^config file .*: ${escape(problem)}$`));
    },
  );

  test('GIVEN a file that is a list, not an object WHEN loaded THEN refused, listing the sections (before: nothing was read from it, silently)', () => {
    expect(refusal([]).message).toMatch(
      /: must be a JSON object of sections \(temporal, aws, unleash, .*, evidence\), not an array$/,
    );
  });

  test('GIVEN several problems WHEN loaded THEN each is named, numbered', () => {
    expect(refusal({ temporal: { address: 12, tls: 'yes' }, codecc: {} }).message).toMatch(
      /has 3 problems: \(1\) temporal\.address: must be a string \(got number 12\); \(2\) temporal\.tls: must be true or false \(got the string "yes"\); \(3\) unknown section codecc; did you mean "codec"\?/,
    );
  });
});

describe('a config file with a name drctl does not know', () => {
  test('GIVEN a misspelt section WHEN loaded THEN refused, naming it, the section meant and the sections there are (before: silently ignored, the defaults used)', () => {
    expect(refusal({ temporall: {} }).message).toMatch(
      /: unknown section temporall; did you mean "temporal"\?; allowed here: temporal, aws, unleash, postgres, secrets, codec, codecServer, operator, access, drill, evidence$/,
    );
  });

  test('GIVEN a misspelt setting WHEN loaded THEN refused, naming its section, the setting meant and the settings there (before: silently ignored)', () => {
    expect(refusal({ temporal: { adress: 'temporal.internal:7233' } }).message).toMatch(
      /: temporal: unknown setting adress; did you mean "address"\?; allowed here: address, httpAddress, namespace, /,
    );
  });

  test('GIVEN a section that is no near miss WHEN loaded THEN refused with the sections there are, no guess', () => {
    const { message } = refusal({ kubernetes: {} });
    expect(message).toMatch(/: unknown section kubernetes; allowed here: temporal, /);
    expect(message).not.toMatch(/did you mean/);
  });

  test('GIVEN a secret reference with a misspelt field WHEN loaded THEN the field is named, not "neither a string nor an object"', () => {
    expect(refusal({ codecServer: { token: { secrt: 'drctl/token' } } }).message).toMatch(
      /: codecServer\.token: unknown field secrt; did you mean "secret"\?; allowed here: secret$/,
    );
  });

  test('GIVEN a misspelt field of an API limit WHEN loaded THEN refused, naming the field meant', () => {
    expect(refusal({ aws: { pacing: { rds: { burst: 300, perSecnd: 12 } } } }).message).toMatch(
      /: aws\.pacing\.rds: unknown field perSecnd; did you mean "perSecond"\?; allowed here: burst, perSecond$/,
    );
  });
});

describe('the checks made after the merge keep their messages for the file', () => {
  test('GIVEN an API drctl does not pace in the file WHEN loaded THEN the pacing check names it and the paced ones', () => {
    expect(refusal({ aws: { pacing: { route_53: { burst: 50, perSecond: 5 } } } }).message).toBe(
      'aws.pacing.route_53 is not a paced API: use route53, rds, cloudwatch, ec2',
    );
  });

  test('GIVEN a limit without its refill in the file WHEN loaded THEN the pacing check names it and what AWS uses', () => {
    expect(refusal({ aws: { pacing: { rds: { burst: 100 } } } }).message).toMatch(
      /^aws\.pacing\.rds\.perSecond must be a positive number, not missing/,
    );
  });

  test('GIVEN evidence kept for 5 years in the file WHEN loaded THEN the retention check answers', () => {
    expect(refusal({ evidence: { retentionYears: 5 } }).message).toMatch(
      /^evidence\.retentionYears \(DRCTL_EVIDENCE_RETENTION_YEARS\) is 5: it must be a whole number of years, at least 6/,
    );
  });

  test('GIVEN a file that is no JSON WHEN loaded THEN refused as before', () => {
    expect(refusal('{"temporal": ').message).toMatch(/is not valid JSON \(.*\): fix it and retry$/);
  });
});

describe('every setting drctl has is taken from the file', () => {
  test('GIVEN every setting with a value of its type WHEN loaded THEN each is taken as given', () => {
    const config = loadConfig({ file: configFile(EVERY_SETTING), env: {}, cwd: dir });
    const { aws, ...sections } = EVERY_SETTING;
    expect(config).toMatchObject(sections);
    expect(config.aws).toMatchObject({ region: aws.region, endpoint: aws.endpoint });
    expect(config.aws.pacing.route53).toEqual(aws.pacing.route53);
  });

  test('GIVEN the file a loaded config was written to (with its source) WHEN loaded THEN taken, the source being the file read', () => {
    const file = configFile({ ...EVERY_SETTING, source: '/elsewhere/drctl.config.json' });
    expect(loadConfig({ file, env: {}, cwd: dir }).source).toBe(file);
  });

  test('GIVEN an empty file object WHEN loaded THEN the defaults', () => {
    const config = loadConfig({ file: configFile({}), env: {}, cwd: dir });
    expect(config.temporal.address).toBe('127.0.0.1:7233');
  });
});

describe("the sandbox's config files load", () => {
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n');
  const pgUrl = (host: string) =>
    `postgres://postgres:pw@${host}:5432/ehr?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`;
  const stack = {
    temporal: { address: '127.0.0.1:7233', httpAddress: '127.0.0.1:7243', namespace: 'default' },
    aws: { region: 'us-east-1' },
    moto: { endpoint: 'http://127.0.0.1:5000' },
    unleash: { url: 'http://127.0.0.1:4242' },
    security: {
      keyringFile: join(dir, 'codec-keyring.json'),
      kms: { alias: 'alias/drctl-sandbox-history' },
      secrets: {
        postgres: { 'ehr-primary': 'drctl/sandbox/postgres/ehr-primary' },
        unleashAdminToken: 'drctl/sandbox/unleash/admin-token',
        unleashClientToken: 'drctl/sandbox/unleash/client-token',
        codecServerToken: 'drctl/sandbox/codec-server/token',
      },
      codecServer: { url: 'http://127.0.0.1:8088', allowedOrigins: ['http://127.0.0.1:8233'] },
    },
    tls: {
      caFile,
      clientCertFile: join(dir, 'client.crt'),
      clientKeyFile: join(dir, 'client.key'),
      temporal: { address: '127.0.0.1:7234', httpAddress: '127.0.0.1:7244', serverName: 'temporal.sandbox' },
      postgres: {
        primaryUrl: pgUrl('127.0.0.2'),
        replicaUrl: pgUrl('127.0.0.3'),
        appUrl: pgUrl('127.0.0.2'),
      },
    },
  } as unknown as StackInfo;

  test.each([
    ['drctl.config.json', drctlConfigFor],
    ['drctl.tls.config.json', drctlTlsConfigFor],
  ])('GIVEN the %s the sandbox writes WHEN loaded THEN every setting in it is taken', (_name, write) => {
    const written = JSON.parse(JSON.stringify(write(stack))) as ReturnType<typeof drctlConfigFor>;
    const config = loadConfig({ file: configFile(written), env: {}, cwd: dir });
    expect(config.temporal).toMatchObject(written.temporal!);
    expect(config.codec).toMatchObject(written.codec!);
    expect(config.evidence).toMatchObject(written.evidence!);
  });
});

describe('the CLI', () => {
  test('GIVEN a config file with a wrong type WHEN a command reads it THEN exit 3 (configuration) and the ConfigError, before anything is contacted (before: exit 1, "Failed to list workflows")', async () => {
    const file = configFile({ temporal: { address: 12 } });
    const result = await runDrctl(['runs', '-c', file, '--limit', '1', '--output', 'json'], { HOME: dir });
    expect(result.code).toBe(ExitCode.Environment);
    expect(JSON.parse(result.stdout).error).toEqual({
      code: 'ConfigInvalid',
      message: `config file ${file}: temporal.address: must be a string (got number 12)`,
    });
  });

  test('GIVEN a ConfigError WHEN the CLI classifies it THEN configuration, exit 3', () => {
    expect(toCliError(refusal({ temporall: {} }))).toMatchObject({
      code: 'ConfigInvalid',
      exitCode: ExitCode.Environment,
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
