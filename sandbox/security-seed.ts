import { ensureSandboxKeyring } from './codec-keyring';
import { codecServerUrl, temporalUiOrigins } from './codec-server-process';
import { seedKms } from './kms-seed';
import type { SandboxSettings } from './sandbox-settings';
import { seedSecrets } from './secrets-seed';
import type { StackInfo } from './stack-info';

/** Names of the sandbox's secrets in Secrets Manager; the drctl config names these, never the values. */
export const SANDBOX_SECRETS = {
  postgres: {
    'ehr-primary': 'drctl/sandbox/postgres/ehr-primary',
    'ehr-replica': 'drctl/sandbox/postgres/ehr-replica',
    'ehr-app': 'drctl/sandbox/postgres/ehr-app',
  },
  unleashAdminToken: 'drctl/sandbox/unleash/admin-token',
  unleashClientToken: 'drctl/sandbox/unleash/client-token',
  codecServerToken: 'drctl/sandbox/codec-server/token',
} as const;

/**
 * The sandbox's protected-data setup: connection secrets and tokens into moto's Secrets Manager, a KMS key
 * for history (offered, and used by the KMS tests), the local keyring that encrypts the sandbox's history, and
 * where the codec server listens. Idempotent; rerun after every moto reset.
 */
export async function seedSandboxSecurity(
  stack: Omit<StackInfo, 'security'>,
  settings: SandboxSettings,
): Promise<StackInfo['security']> {
  await seedSecrets(stack.moto.endpoint, stack.aws.region, {
    [SANDBOX_SECRETS.postgres['ehr-primary']]: stack.postgres.primaryUrl,
    [SANDBOX_SECRETS.postgres['ehr-replica']]: stack.postgres.replicaUrl,
    [SANDBOX_SECRETS.postgres['ehr-app']]: stack.postgres.appUrl,
    [SANDBOX_SECRETS.unleashAdminToken]: stack.unleash.adminToken,
    [SANDBOX_SECRETS.unleashClientToken]: stack.unleash.clientToken,
    [SANDBOX_SECRETS.codecServerToken]: settings.secrets.codecServerToken,
  });
  const kms = await seedKms(stack.moto.endpoint, stack.aws.region);
  return {
    keyringFile: ensureSandboxKeyring(),
    kms,
    secrets: {
      postgres: { ...SANDBOX_SECRETS.postgres },
      unleashAdminToken: SANDBOX_SECRETS.unleashAdminToken,
      unleashClientToken: SANDBOX_SECRETS.unleashClientToken,
      codecServerToken: SANDBOX_SECRETS.codecServerToken,
    },
    codecServer: {
      url: codecServerUrl(settings),
      token: settings.secrets.codecServerToken,
      allowedOrigins: temporalUiOrigins(settings),
    },
  };
}
