import { createFenceActivities, type DatabaseActivityDeps } from '../../kinds/database-fence/activities';
import { createPromoteActivities } from '../../kinds/database-promote/activities';

/** Both database kinds' activities over the same ports, as the worker registers them. */
export function createDatabaseActivities(deps: DatabaseActivityDeps) {
  return { ...createFenceActivities(deps), ...createPromoteActivities(deps) };
}
