import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfig, ConfigError } from '../../worker/config';
import { connectionUrlFromSecret } from '../../security/secrets/connection-secret';
import { SecretError } from '../../security/secrets/secret-error';
import { withSecretFailures } from '../../security/secrets/secret-failure';
import { SecretResolver } from '../../security/secrets/secret-resolver';
import { createSecretsManagerAdapter } from '../../security/secrets/secrets-manager-adapter';
import { failureOf } from './failure-of';

/**
 * An in-memory Secrets Manager behind the SDK client's `send`, refusing as AWS does: an unknown name is
 * ResourceNotFoundException, a name outside `readable` is AccessDeniedException.
 */
function fakeSecretsManager(secrets: Map<string, string>, readable = (name: string) => name !== 'forbidden') {
  return {
    send: async (command: { input: { SecretId?: string } }) => {
      const name = command.input.SecretId ?? '';
      if (!readable(name)) {
        throw Object.assign(
          new Error(`User is not authorized to perform: secretsmanager:GetSecretValue on ${name}`),
          {
            name: 'AccessDeniedException',
          },
        );
      }
      const value = secrets.get(name);
      if (value === undefined) {
        throw Object.assign(new Error("Secrets Manager can't find the specified secret."), {
          name: 'ResourceNotFoundException',
        });
      }
      return { SecretString: value };
    },
  } as unknown as SecretsManagerClient;
}

test('GIVEN a cached secret WHEN it rotates THEN the old value serves until the TTL, the new one after', async () => {
  let now = 1;
  const store = new Map([['drctl/ehr-primary', 'postgresql://app:old@db:5432/ehr']]);
  const resolver = new SecretResolver(createSecretsManagerAdapter(fakeSecretsManager(store)), {
    ttlMs: 1000,
    now: () => now,
  });

  const first = await resolver.resolve({ secret: 'drctl/ehr-primary' }, 'postgres.connections.ehr-primary');
  store.set('drctl/ehr-primary', 'postgresql://app:new@db:5432/ehr');
  now += 500;
  const cached = await resolver.value('drctl/ehr-primary');
  now += 600;
  const fresh = await resolver.value('drctl/ehr-primary');

  expect(first).toContain(':old@');
  expect(cached).toContain(':old@');
  expect(fresh).toContain(':new@');
});

test('GIVEN a missing or forbidden secret WHEN an activity needs it THEN a permanent failure names the secret and what to do, not a value', async () => {
  const store = new Map([['drctl/ok', 'postgresql://app:pw-123456@db/ehr']]);
  const resolver = new SecretResolver(createSecretsManagerAdapter(fakeSecretsManager(store)), {
    ttlMs: 1000,
  });

  const missing = await failureOf(
    withSecretFailures('PostgreSQL connection "ehr-primary"', () => resolver.value('drctl/missing')),
  );
  const denied = await failureOf(
    withSecretFailures('PostgreSQL connection "ehr-replica"', () => resolver.value('forbidden')),
  );

  expect(missing.nonRetryable).toBe(true);
  expect(missing.type).toBe('ConfigurationMissing');
  expect(missing.message).toBe(
    'PostgreSQL connection "ehr-primary": secret drctl/missing does not exist in Secrets Manager (or has no current version) in this account and region: create it, or fix the secret name in the worker configuration',
  );
  expect(denied.type).toBe('AccessDenied');
  expect(denied.message).toMatch(
    /access to secret forbidden was denied: grant this identity secretsmanager:GetSecretValue/,
  );
});

test('a secret holds a connection URL or database credentials JSON; anything else is refused without echoing it', () => {
  expect(connectionUrlFromSecret('s', 'postgresql://app:p%40ss@10.0.0.5:5432/ehr')).toBe(
    'postgresql://app:p%40ss@10.0.0.5:5432/ehr',
  );
  expect(
    connectionUrlFromSecret(
      's',
      JSON.stringify({
        engine: 'postgres',
        host: 'db.internal',
        port: 5433,
        username: 'app',
        password: 'p@ss/w:rd',
        dbname: 'ehr',
      }),
    ),
  ).toBe('postgresql://app:p%40ss%2Fw%3Ard@db.internal:5433/ehr');

  const refused = (() => {
    try {
      connectionUrlFromSecret('drctl/ehr', 'hunter2-not-a-url');
    } catch (error) {
      return error as SecretError;
    }
    return undefined;
  })();
  expect(refused).toBeInstanceOf(SecretError);
  expect(refused!.message).toMatch(/secret drctl\/ehr holds neither a postgresql:\/\/ URL nor JSON/);
  expect(refused!.message).not.toContain('hunter2');
});

test('a malformed secret reference names the setting and its shape, never its content', async () => {
  const resolver = new SecretResolver(createSecretsManagerAdapter(fakeSecretsManager(new Map())), {
    ttlMs: 1000,
  });

  const error = await resolver
    .resolve({ secrt: 'drctl/x' } as unknown as { secret: string }, 'unleash.adminToken')
    .catch((e: unknown) => e as SecretError);

  expect(error).toBeInstanceOf(SecretError);
  expect((error as SecretError).message).toBe(
    'unleash.adminToken must be a value or { "secret": "<Secrets Manager secret name>" }, not an object with keys secrt',
  );
});

test('env names secrets: DRCTL_PG_<NAME>_SECRET, DRCTL_UNLEASH_*_TOKEN_SECRET, and codec settings; bad switches are refused', () => {
  const config = loadConfig({
    cwd: '/nonexistent',
    env: {
      DRCTL_PG_EHR_PRIMARY_SECRET: 'drctl/ehr-primary',
      DRCTL_PG_EHR_APP_URL: 'postgresql://app@db/ehr',
      DRCTL_UNLEASH_ADMIN_TOKEN_SECRET: 'drctl/unleash-admin',
      UNLEASH_CLIENT_TOKEN: 'default:development.abc',
      DRCTL_CODEC: 'on',
      DRCTL_CODEC_KMS_KEY_ID: 'alias/drctl-history',
      DRCTL_CODEC_SERVER_ORIGINS: 'https://ui.example.org, http://127.0.0.1:8233',
      DRCTL_CODEC_SERVER_TOKEN_SECRET: 'drctl/codec-token',
    },
  });

  expect(config.postgres.connections).toEqual({
    'ehr-primary': { secret: 'drctl/ehr-primary' },
    'ehr-app': 'postgresql://app@db/ehr',
  });
  expect(config.unleash).toMatchObject({
    adminToken: { secret: 'drctl/unleash-admin' },
    clientToken: 'default:development.abc',
  });
  expect(config.codec).toMatchObject({ enabled: true, kmsKeyId: 'alias/drctl-history' });
  expect(config.codecServer).toMatchObject({
    allowedOrigins: ['https://ui.example.org', 'http://127.0.0.1:8233'],
    token: { secret: 'drctl/codec-token' },
  });
  expect(() => loadConfig({ cwd: '/nonexistent', env: { DRCTL_CODEC: 'yes please' } })).toThrow(ConfigError);
  expect(() => loadConfig({ cwd: '/nonexistent', env: { DRCTL_CODEC: 'yes please' } })).toThrow(
    'DRCTL_CODEC must be on or off, not "yes please"',
  );
});
