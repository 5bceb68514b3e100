import { SandboxError } from './sandbox-error';
import { UNLEASH_ENVIRONMENT, UNLEASH_PROJECT } from './unleash-server';

export const SEEDED_FLAGS = ['ehr-degraded-mode', 'ehr-read-only-banner', 'portal-maintenance-page'];

/**
 * Ensures each seeded flag exists in project `default` with a 100 % rollout strategy in `development` (so ON
 * means on for every client). New flags start OFF; `turnAllOff` (what a reset does) also turns existing ones off,
 * otherwise a flag a drill turned on stays on.
 */
export async function seedUnleash(
  url: string,
  adminToken: string,
  options: { turnAllOff?: boolean } = {},
): Promise<void> {
  const admin = unleashAdmin(url, adminToken);
  const projectPath = `/api/admin/projects/${UNLEASH_PROJECT}/features`;
  for (const flag of SEEDED_FLAGS) {
    const existing = await admin('GET', `${projectPath}/${flag}`, undefined, [404]);
    const created = existing.status === 404;
    if (created) {
      await admin('POST', projectPath, {
        name: flag,
        type: 'kill-switch',
        description: 'drctl sandbox seed: off unless a runbook turns it on',
      });
    }
    const strategies = await admin(
      'GET',
      `${projectPath}/${flag}/environments/${UNLEASH_ENVIRONMENT}/strategies`,
    );
    if (!Array.isArray(strategies.body) || strategies.body.length === 0) {
      await admin('POST', `${projectPath}/${flag}/environments/${UNLEASH_ENVIRONMENT}/strategies`, {
        name: 'flexibleRollout',
        constraints: [],
        parameters: { rollout: '100', stickiness: 'default', groupId: flag },
      });
    }
    if (created || options.turnAllOff)
      await admin('POST', `${projectPath}/${flag}/environments/${UNLEASH_ENVIRONMENT}/off`);
  }
}

type AdminCall = (
  method: string,
  path: string,
  body?: unknown,
  allowedStatuses?: number[],
) => Promise<{ status: number; body: unknown }>;

function unleashAdmin(url: string, adminToken: string): AdminCall {
  return async (method, path, body, allowedStatuses = []) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: adminToken, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok && !allowedStatuses.includes(response.status)) {
      throw new SandboxError(
        'SeedFailed',
        `Unleash ${method} ${path} answered HTTP ${response.status}: ${text.slice(0, 300)}. See .sandbox/logs/unleash.log`,
      );
    }
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
}
