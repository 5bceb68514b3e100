import { createFenceActivities, type DatabaseActivityDeps } from '../../kinds/database-fence/activities';
import { createPromoteActivities } from '../../kinds/database-promote/activities';

/**
 * Both database kinds' activities over the same ports, as the worker registers them. Without `lagMetrics`, every
 * lag series reads 0 (healthy), so tests that are not about lag need not stage it.
 */
export function createDatabaseActivities(
  deps: Omit<DatabaseActivityDeps, 'lagMetrics'> & Partial<Pick<DatabaseActivityDeps, 'lagMetrics'>>,
) {
  const full: DatabaseActivityDeps = { ...deps, lagMetrics: deps.lagMetrics ?? healthyLag };
  return { ...createFenceActivities(full), ...createPromoteActivities(full) };
}

const healthyLag = {
  latestLag: async (query: { metricName: string; resourceId: string; region: string }) => ({
    lagMs: 0,
    at: new Date(),
    source: `${query.metricName} of ${query.resourceId} in ${query.region}`,
  }),
};
