export { createPostgresAdapter, type PostgresAdapterOptions } from './postgres-adapter';
export { createRdsAdapter } from './rds-adapter';
export { POSTGRES_UNREACHABLE, isPostgresUnreachable } from './postgres-errors';
export type * from './postgres-port';
export { PROMOTED_FROM_TAG, type RdsCluster, type RdsInstance, type RdsPort } from './rds-port';
