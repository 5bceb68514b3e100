import type { DatabaseProviderIam } from '../../../security/iam/database-provider-iam';

/**
 * Self-managed PostgreSQL is reached over its own protocol: no AWS call. (Connections named as Secrets Manager
 * secrets are read by the worker; `drctl iam-policy --secret` adds those.)
 */
export const postgresIam: DatabaseProviderIam<'postgres'> = {
  provider: 'postgres',
  check: () => [],
  fence: () => [],
  promote: () => [],
};
