import pLimit from 'p-limit';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';
import type { FlagState, UnleashAdminPort } from './unleash-admin-port';

export interface UnleashAdminOptions {
  /** Base URL of the Unleash server, e.g. `http://127.0.0.1:4242`. */
  url: string;
  /** An admin API token, sent raw in the Authorization header. */
  token: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /**
   * The limit the requests queue on (`unleashAdminInFlight()`): the worker passes one for all its adapters (it
   * builds one per call, with the token it resolves then). Default: a limit of this adapter's own.
   */
  inFlight?: pLimit.Limit;
}

interface AdminFeature {
  environments?: Array<{ name: string; enabled: boolean; strategies?: Array<{ disabled?: boolean | null }> }>;
}

/**
 * Admin API requests a worker has open at a time. A flags step reads, sets and reads back each of its flags at
 * once, and several runs may do so together: a runbook with a hundred flags would otherwise open a hundred
 * connections to Unleash at once. The others wait their turn (their timeout starts when they are sent); a slot is
 * held until the answer's body is read.
 */
export const UNLEASH_ADMIN_IN_FLIGHT = 8;

/** A limit of `UNLEASH_ADMIN_IN_FLIGHT` requests at a time, for every adapter a worker builds (p-limit). */
export function unleashAdminInFlight(): pLimit.Limit {
  return pLimit(UNLEASH_ADMIN_IN_FLIGHT);
}

/** The Unleash Admin API over fetch, at most `UNLEASH_ADMIN_IN_FLIGHT` requests in flight (`inFlight`). */
export function createUnleashAdminAdapter({
  url,
  token,
  timeoutMs = 10_000,
  inFlight = unleashAdminInFlight(),
}: UnleashAdminOptions): UnleashAdminPort {
  const base = url.replace(/\/+$/, '');

  /** Sends a request and reads its answer (`read`) in one of the worker's slots. */
  function request<T>(
    method: string,
    path: string,
    what: string,
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    return inFlight(async () => {
      const response = await send(method, path, what);
      try {
        refuseUnusable(response, what);
        return await read(response);
      } finally {
        // An answer thrown on before its body was read (a refusal, a 404) is dropped within the slot, so its
        // connection is free when the slot is.
        if (!response.bodyUsed) await response.body?.cancel().catch(() => undefined);
      }
    });
  }

  async function send(method: string, path: string, what: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { Authorization: token, Accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw transientFailure(
        'ConnectionFailed',
        `Cannot reach Unleash at ${base} to ${what} (${networkCode(error)}); check the Unleash URL in the worker config and that the server is up`,
      );
    }
    return response;
  }

  /** Throws for an answer that carries no result: a refused token, or Unleash unavailable (retryable). */
  function refuseUnusable(response: Response, what: string): void {
    if (response.status === 401 || response.status === 403) {
      throw permanentFailure(
        PermanentFailure.AccessDenied,
        `Unleash at ${base} refused to ${what} (HTTP ${response.status}); check UNLEASH_ADMIN_TOKEN is an admin token with access to this project`,
      );
    }
    if (response.status >= 500 || response.status === 429) {
      throw transientFailure(
        'UnleashUnavailable',
        `Unleash at ${base} answered HTTP ${response.status} to ${what}; will retry`,
      );
    }
  }

  return {
    async getFlag(project, environment, name): Promise<FlagState> {
      const what = `read flag ${name} in project ${project}`;
      const feature = await request(
        'GET',
        `/api/admin/projects/${enc(project)}/features/${enc(name)}`,
        what,
        async (response) => {
          if (response.status === 404) {
            throw permanentFailure(
              PermanentFailure.NotFound,
              `Unleash has no flag ${name} in project ${project}; create it in Unleash or fix the flag name in the runbook`,
            );
          }
          if (!response.ok) throw await unexpected(response, what);
          return (await response.json()) as AdminFeature;
        },
      );
      const env = feature.environments?.find((e) => e.name === environment);
      if (!env) {
        throw permanentFailure(
          PermanentFailure.NotFound,
          `Flag ${name} in project ${project} has no environment ${environment} (has: ${(feature.environments ?? []).map((e) => e.name).join(', ') || 'none'}); fix the environment in the runbook or enable it on the project`,
        );
      }
      return {
        name,
        enabled: env.enabled,
        strategies: (env.strategies ?? []).length,
        enabledStrategies: (env.strategies ?? []).filter((s) => s.disabled !== true).length,
      };
    },

    async setEnabled(project, environment, name, enabled): Promise<void> {
      const what = `turn flag ${name} ${enabled ? 'on' : 'off'} in ${project}/${environment}`;
      await request(
        'POST',
        `/api/admin/projects/${enc(project)}/features/${enc(name)}/environments/${enc(environment)}/${enabled ? 'on' : 'off'}`,
        what,
        async (response) => {
          if (response.status === 404) {
            throw permanentFailure(
              PermanentFailure.NotFound,
              `Unleash has no flag ${name} in ${project}/${environment}; create it or fix the runbook`,
            );
          }
          if (!response.ok) throw await unexpected(response, what);
          await response.arrayBuffer(); // read to the end, so the connection is free for the next request
        },
      );
    },
  };
}

async function unexpected(response: Response, what: string) {
  const body = (await response.text().catch(() => '')).slice(0, 300);
  return permanentFailure(
    PermanentFailure.InvalidState,
    `Unleash answered HTTP ${response.status} to ${what}: ${body}; check the project, environment and flag names`,
  );
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

/** fetch wraps the socket error in `cause` (sometimes an AggregateError with `errors`). */
export function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; errors?: Array<{ code?: string }>; message?: string } })
    .cause;
  return (
    cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message ?? String(error)
  );
}
