/**
 * What an access policy can allow, per runbook, and which permission each signed operator action needs.
 * `evacuate` is granted on an evacuation's id (its runbooks are matched by the same globs); starting one also
 * needs `failover` on every runbook it runs, so an evacuation never moves a service its operator could not fail over.
 */
export const PERMISSIONS = [
  'plan',
  'failover',
  'failback',
  'drill',
  'evacuate',
  'approve',
  'decide',
  'abort',
  'schedule',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Every action an operator signs. `retry` and `skip` are decisions on a paused step. */
export const STATEMENT_ACTIONS = [
  'plan',
  'failover',
  'failback',
  'drill',
  'evacuate',
  'approve',
  'retry',
  'skip',
  'abort',
  'schedule',
] as const;

export type StatementAction = (typeof STATEMENT_ACTIONS)[number];

const PERMISSION_OF: Record<StatementAction, Permission> = {
  plan: 'plan',
  failover: 'failover',
  failback: 'failback',
  drill: 'drill',
  evacuate: 'evacuate',
  approve: 'approve',
  retry: 'decide',
  skip: 'decide',
  abort: 'abort',
  schedule: 'schedule',
};

export function permissionFor(action: StatementAction): Permission {
  return PERMISSION_OF[action];
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
