import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../worker/config';
import { temporalConnectionOptions } from '../../worker/temporal-connection-options';
import {
  ensureCertificateAuthority,
  issueCertificate,
  type IssuedCertificate,
} from '../../sandbox/tls/certificate-authority';

/**
 * Transport settings: the `temporal` CLI's TLS environment names and the config file give the same mTLS
 * connection options; a bad file is a ConfigError naming the setting and the file (the CLI exits 3); a
 * PostgreSQL URL's TLS files are checked when the configuration loads. Certificates are real (openssl).
 */
const DRCTL = resolve(__dirname, '../../bin/drctl');
const dir = mkdtempSync(join(tmpdir(), 'drctl-transport-'));
let caFile: string;
let client: IssuedCertificate;
let other: IssuedCertificate;

beforeAll(async () => {
  const ca = await ensureCertificateAuthority(dir, 'drctl unit-test CA');
  caFile = ca.certFile;
  client = await issueCertificate(ca, dir, { name: 'client', commonName: 'drctl-worker', usage: 'client' });
  other = await issueCertificate(ca, dir, { name: 'other', commonName: 'someone-else', usage: 'client' });
});

const tlsOf = (env: NodeJS.ProcessEnv) =>
  temporalConnectionOptions(loadConfig({ env, cwd: dir }).temporal).tls as Exclude<
    ReturnType<typeof temporalConnectionOptions>['tls'],
    boolean | undefined
  >;

describe('Temporal mTLS settings', () => {
  test('GIVEN the temporal CLI environment names THEN the connection carries the CA, the client pair and the server name', () => {
    const tls = tlsOf({
      TEMPORAL_TLS_CLIENT_CERT_PATH: client.certFile,
      TEMPORAL_TLS_CLIENT_KEY_PATH: client.keyFile,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.example.internal',
    });
    expect(tls.serverNameOverride).toBe('temporal.example.internal');
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(readFileSync(caFile, 'utf8'));
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(readFileSync(client.certFile, 'utf8'));
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(readFileSync(client.keyFile, 'utf8'));
  });

  test('GIVEN the older names (TEMPORAL_TLS_CERT/KEY/CA) next to the newer ones THEN the older win, as in the temporal CLI', () => {
    const tls = tlsOf({
      TEMPORAL_TLS_CERT: client.certFile,
      TEMPORAL_TLS_KEY: client.keyFile,
      TEMPORAL_TLS_CA: caFile,
      TEMPORAL_TLS_CLIENT_CERT_PATH: other.certFile,
      TEMPORAL_TLS_CLIENT_KEY_PATH: other.keyFile,
    });
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(readFileSync(client.certFile, 'utf8'));
  });

  test('GIVEN the PEM itself in *_DATA variables THEN it is used as given', () => {
    const tls = tlsOf({
      TEMPORAL_TLS_CERT_DATA: readFileSync(client.certFile, 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(client.keyFile, 'utf8'),
      TEMPORAL_TLS_CA_DATA: readFileSync(caFile, 'utf8'),
    });
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(readFileSync(client.certFile, 'utf8'));
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(readFileSync(caFile, 'utf8'));
  });

  test('GIVEN the same settings in the config file THEN the connection is the same, and TLS is on without TEMPORAL_TLS', () => {
    const file = join(dir, 'mtls.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        temporal: {
          tls: false,
          tlsCertPath: client.certFile,
          tlsKeyPath: client.keyFile,
          tlsCaPath: caFile,
          tlsServerName: 'temporal.example.internal',
        },
      }),
    );
    const config = loadConfig({ env: { DRCTL_CONFIG: file }, cwd: dir });
    expect(config.temporal.tls).toBe(true);
    const tls = tlsOf({ DRCTL_CONFIG: file });
    expect(tls.serverNameOverride).toBe('temporal.example.internal');
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(readFileSync(client.keyFile, 'utf8'));
  });

  test('GIVEN no TLS setting THEN the connection is plain', () => {
    expect(temporalConnectionOptions(loadConfig({ env: {}, cwd: dir }).temporal)).toEqual({
      address: '127.0.0.1:7233',
    });
    expect(tlsOf({ TEMPORAL_TLS: '1' })).toEqual({});
  });

  test.each([
    [
      'a CA file that does not exist',
      () => ({ TEMPORAL_TLS_CA: join(dir, 'missing-ca.pem') }),
      /Temporal server CA certificate file .*missing-ca\.pem \(temporal\.tlsCaPath, env TEMPORAL_TLS_CA or TEMPORAL_TLS_SERVER_CA_CERT_PATH\) cannot be read \(ENOENT\)/,
    ],
    [
      'a client certificate without its key',
      () => ({ TEMPORAL_TLS_CERT: client.certFile }),
      /temporal\.tlsCertPath, env TEMPORAL_TLS_CERT or TEMPORAL_TLS_CLIENT_CERT_PATH.* is set but temporal\.tlsKeyPath.* is not/,
    ],
    [
      'a key that belongs to another certificate',
      () => ({ TEMPORAL_TLS_CERT: client.certFile, TEMPORAL_TLS_KEY: other.keyFile }),
      /Temporal client key from file .*other\.key .* does not belong to the Temporal client certificate from file .*client\.crt/,
    ],
    [
      'a key file where the certificate belongs',
      () => ({ TEMPORAL_TLS_CERT: client.keyFile, TEMPORAL_TLS_KEY: client.keyFile }),
      /Temporal client certificate from file .*client\.key \(temporal\.tlsCertPath.*\) is not a PEM certificate/,
    ],
    [
      'both a path and the data for the CA',
      () => ({ TEMPORAL_TLS_CA: caFile, TEMPORAL_TLS_CA_DATA: 'x' }),
      /both temporal\.tlsCaPath.* and temporal\.tlsCaData.* are set .*: set only one/,
    ],
    [
      'host verification turned off',
      () => ({ TEMPORAL_TLS_CA: caFile, TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }),
      /TEMPORAL_TLS_DISABLE_HOST_VERIFICATION.*drctl always verifies.*TEMPORAL_TLS_SERVER_NAME/,
    ],
  ])('GIVEN %s THEN a ConfigError names the setting and the file', (_, env, message) => {
    const build = () => temporalConnectionOptions(loadConfig({ env: env(), cwd: dir }).temporal);
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  });

  test('GIVEN an expired client certificate THEN a ConfigError says when it expired', () => {
    const temporal = loadConfig({
      env: { TEMPORAL_TLS_CERT: client.certFile, TEMPORAL_TLS_KEY: client.keyFile },
      cwd: dir,
    }).temporal;
    expect(() =>
      temporalConnectionOptions(temporal, { now: new Date(Date.now() + 400 * 86_400_000) }),
    ).toThrow(/Temporal client certificate from file .*client\.crt .*CN=drctl-worker.* expired on \d{4}-/);
  });

  test('GIVEN a missing CA file WHEN an operator runs drctl THEN it exits 3 naming the setting and the file, before any connection', async () => {
    const result = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        process.execPath,
        [DRCTL, 'status', 'failover-ehr-db-20261127-081530'],
        {
          env: {
            PATH: process.env.PATH,
            TEMPORAL_ADDRESS: '127.0.0.1:9',
            TEMPORAL_TLS_CA: join(dir, 'missing-ca.pem'),
          },
        },
        (error, _stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      ),
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /missing-ca\.pem \(temporal\.tlsCaPath, env TEMPORAL_TLS_CA or .*\) cannot be read/,
    );
    expect(result.stderr).not.toMatch(/cannot reach Temporal/);
  }, 30_000);
});

describe('PostgreSQL TLS settings', () => {
  test('GIVEN a verify-full URL whose CA file exists THEN the configuration loads', () => {
    const url = `postgres://app:pw@db.example.internal:5432/ehr?sslmode=verify-full&sslrootcert=${caFile}`;
    expect(loadConfig({ env: { DRCTL_PG_EHR_APP_URL: url }, cwd: dir }).postgres.connections['ehr-app']).toBe(
      url,
    );
  });

  test('GIVEN a verify-full URL whose CA file is missing THEN a ConfigError names the connection, its env name and the file', () => {
    const url =
      'postgres://app:pw@db.example.internal:5432/ehr?sslmode=verify-full&sslrootcert=certs/rds-ca.pem';
    expect(() => loadConfig({ env: { DRCTL_PG_EHR_APP_URL: url }, cwd: dir })).toThrow(
      new RegExp(
        `PostgreSQL connection "ehr-app" \\(postgres\\.connections\\.ehr-app or DRCTL_PG_EHR_APP_URL\\): sslrootcert file ${join(dir, 'certs/rds-ca.pem').replace(/[.]/g, '\\.')} cannot be read \\(ENOENT\\)`,
      ),
    );
  });

  test('GIVEN an sslmode PostgreSQL does not know THEN a ConfigError lists the modes and recommends verify-full', () => {
    const url = 'postgres://app:pw@db.example.internal:5432/ehr?sslmode=verify';
    expect(() => loadConfig({ env: { DRCTL_PG_EHR_APP_URL: url }, cwd: dir })).toThrow(
      /sslmode=verify is not a PostgreSQL sslmode: use verify-full \(recommended\)/,
    );
  });
});

describe("Temporal's HTTP API address", () => {
  test.each(['127.0.0.1:7243', 'temporal.internal:7243', '[::1]:7243'])(
    'GIVEN %s THEN it is taken',
    (address) => {
      expect(loadConfig({ env: { TEMPORAL_HTTP_ADDRESS: address }, cwd: dir }).temporal.httpAddress).toBe(
        address,
      );
    },
  );

  test('GIVEN an empty TEMPORAL_HTTP_ADDRESS over a config file that sets one THEN it is off', () => {
    const file = join(dir, 'with-http.json');
    writeFileSync(file, JSON.stringify({ temporal: { httpAddress: '127.0.0.1:7243' } }));
    expect(loadConfig({ file, env: {}, cwd: dir }).temporal.httpAddress).toBe('127.0.0.1:7243');
    expect(
      loadConfig({ file, env: { TEMPORAL_HTTP_ADDRESS: '' }, cwd: dir }).temporal.httpAddress,
    ).toBeUndefined();
  });

  test.each(['https://temporal.internal:7243', 'temporal.internal', 'temporal internal:7243'])(
    'GIVEN %s THEN a ConfigError names the setting and says the form',
    (address) => {
      expect(() => loadConfig({ env: { TEMPORAL_HTTP_ADDRESS: address }, cwd: dir })).toThrow(
        new ConfigError(
          `temporal.httpAddress (TEMPORAL_HTTP_ADDRESS) must be host:port of Temporal's HTTP API, such as temporal.internal:7243 (no scheme: TLS follows temporal.tls); got "${address}"`,
        ),
      );
    },
  );
});
