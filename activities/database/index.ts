export { createPostgresAdapter, type PostgresAdapterOptions } from './postgres-adapter';
export { createRdsAdapter } from './rds-adapter';
export { POSTGRES_UNREACHABLE, isPostgresUnreachable } from './postgres-errors';
export type * from './postgres-port';
export type { RdsCluster, RdsInstance, RdsPort } from './rds-port';
