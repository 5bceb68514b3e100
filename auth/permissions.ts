/** What an access policy can allow, per runbook, and which permission each signed operator action needs. */
export const PERMISSIONS = [
  'plan',
  'failover',
  'failback',
  'drill',
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
