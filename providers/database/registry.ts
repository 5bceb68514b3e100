import type { z } from 'zod';
import { auroraCluster } from './aurora-cluster/definition';
import { auroraGlobal } from './aurora-global/definition';
import { postgres } from './postgres/definition';
import type { DatabaseProvider } from './provider';
import { rdsInstance } from './rds-instance/definition';

/**
 * Every database provider, one line each. The runbook schema's `targets.databases` is their union; the worker
 * loads each one's strategy from `providers/database/<provider>/strategy.ts`. Pure: bundled into workflows.
 */
export const DATABASE_PROVIDERS = [postgres, rdsInstance, auroraCluster, auroraGlobal] as const;

export type DatabaseProviderName = (typeof DATABASE_PROVIDERS)[number]['provider'];

const BY_NAME = new Map<string, DatabaseProvider<z.ZodObject>>(
  DATABASE_PROVIDERS.map((p) => [p.provider, p as unknown as DatabaseProvider<z.ZodObject>]),
);

export function databaseProvider(name: string): DatabaseProvider<z.ZodObject> {
  const found = BY_NAME.get(name);
  if (found === undefined) {
    throw new Error(`unknown database provider "${name}" (known: ${[...BY_NAME.keys()].join(', ')})`);
  }
  return found;
}
