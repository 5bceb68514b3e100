import { auroraClusterIam } from '../../providers/database/aurora-cluster/iam';
import { auroraGlobalIam } from '../../providers/database/aurora-global/iam';
import { postgresIam } from '../../providers/database/postgres/iam';
import { rdsInstanceIam } from '../../providers/database/rds-instance/iam';
import type { DatabaseProviderName } from '../../providers/database/registry';
import type { DatabaseTarget } from '../../runbooks/schema';
import type { DatabaseProviderIam } from './database-provider-iam';

/**
 * Every database provider's IAM declaration. Keyed by the registry's provider names, so a provider added to
 * `DATABASE_PROVIDERS` without its `iam.ts` does not compile.
 */
export const PROVIDER_IAM: { [P in DatabaseProviderName]: DatabaseProviderIam<P> } = {
  postgres: postgresIam,
  'rds-instance': rdsInstanceIam,
  'aurora-cluster': auroraClusterIam,
  'aurora-global': auroraGlobalIam,
};

export function providerIam(target: DatabaseTarget): DatabaseProviderIam<DatabaseTarget['provider']> {
  return PROVIDER_IAM[target.provider] as DatabaseProviderIam<DatabaseTarget['provider']>;
}
