import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult, PlannedChange } from '../../activities/contracts';
import type { ActivityPorts } from '../../activities/ports';
import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { heartbeat } from '../../activities/poll-until';
import { WATCH_INTERVAL_MS } from '../../activities/flags/unleash-client-reader';
import { measuredChecks, runStep } from '../../activities/step-outcome';
import type { FlagState, UnleashAdminPort } from '../../activities/flags/unleash-admin-port';
import type { UnleashClientReader } from '../../activities/flags/unleash-client-reader';
import type { FlagsInput, FlagsSetActivities, FlagValue } from './definition';

export interface FlagActivityDeps {
  admin: UnleashAdminPort;
  reader: UnleashClientReader;
  /** How often the confirming client re-reads (a conditional request). Default 50 ms. */
  watchIntervalMs?: number;
  /** How long a client may take to see every desired value before the step fails. Default 60 s. */
  confirmTimeoutMs?: number;
}

const onOff = (enabled: boolean | null | undefined) =>
  enabled === null || enabled === undefined ? 'unknown' : enabled ? 'on' : 'off';

export function activitiesFromPorts(ports: ActivityPorts): FlagsSetActivities {
  return createFlagActivities({ admin: ports.unleashAdmin, reader: ports.unleashReader });
}

export function createFlagActivities({
  admin,
  reader,
  watchIntervalMs = WATCH_INTERVAL_MS,
  confirmTimeoutMs = 60_000,
}: FlagActivityDeps): FlagsSetActivities {
  /** Each flag's state, read at once: the flags are independent, and the step waits on the slowest read only. */
  async function readStates(input: FlagsInput): Promise<FlagState[]> {
    const states = await Promise.all(
      input.flags.map((flag) => admin.getFlag(input.project, input.environment, flag.name)),
    );
    heartbeat({ read: states.length });
    return states;
  }

  /**
   * Watches a real client until it sees every desired value; that, not the Admin API's answer, is "done". The
   * client re-reads every 50 ms with a conditional request, so the change is seen as soon as the server serves it
   * (Unleash 7 moves its revision once a second: that tick is the floor), not at the next step of a growing poll.
   */
  async function confirm(input: FlagsInput): Promise<{ reads: number }> {
    const names = input.flags.map((f) => f.name);
    const mismatches = (seen: Record<string, boolean | null>) =>
      input.flags
        .filter((f) => seen[f.name] !== f.enabled)
        .map((f) => `${f.name} is ${onOff(seen[f.name])}, want ${onOff(f.enabled)}`);
    const keepAlive = setInterval(() => heartbeat({ confirming: names }), 5_000);
    let watched;
    try {
      watched = await reader.watch(names, (seen) => mismatches(seen).length === 0, {
        timeoutMs: confirmTimeoutMs,
        intervalMs: watchIntervalMs,
      });
    } finally {
      clearInterval(keepAlive);
    }
    const { seen, reads } = watched;
    const wrong = mismatches(seen);
    if (wrong.length > 0) {
      throw permanentFailure(
        PermanentFailure.FlagNotConfirmed,
        `After ${Math.round(confirmTimeoutMs / 1000)} s an Unleash client still sees: ${wrong.join('; ')} (${input.project}/${input.environment}). The Admin API accepted the change: check the flags' strategies and constraints in ${input.environment}, and that the client token belongs to ${input.environment}`,
      );
    }
    return { reads };
  }

  return {
    checkFlags: (input) =>
      measuredChecks(async () => {
        const where = `${input.project}/${input.environment}`;
        // Each flag's admin read and the client's read are independent: asked at once, one round trip.
        const flagChecks = Promise.all(
          input.names.map(async (name): Promise<CheckResult> => {
            const check = `flags ${where}: ${name} exists`;
            try {
              const state = await admin.getFlag(input.project, input.environment, name);
              return {
                check,
                ok: true,
                message: `${name} is ${onOff(state.enabled)} with ${state.enabledStrategies} enabled strateg${state.enabledStrategies === 1 ? 'y' : 'ies'}`,
              };
            } catch (error) {
              return { check, ok: false, message: permanentMessage(error) };
            } finally {
              heartbeat({ checked: name });
            }
          }),
        );
        const clientCheck = async (): Promise<CheckResult> => {
          const check = `flags ${input.environment}: client token reads flags`;
          try {
            // Read with a name-prefix query of its own: Unleash caches client reads per query until its revision
            // ticks, so reading with the applications' query here would keep the old value served for up to a
            // second after the flag step changes it.
            const seen: Record<string, boolean | null> = Object.assign(
              {},
              ...(await Promise.all(
                [...prefixGroups(input.names)].map(([namePrefix, names]) =>
                  reader.read(names, { namePrefix }),
                ),
              )),
            );
            heartbeat({ checked: Object.keys(seen).length });
            const unknown = input.names.filter((n) => seen[n] === null);
            return unknown.length === 0
              ? { check, ok: true, message: input.names.map((n) => `${n}=${onOff(seen[n])}`).join(', ') }
              : {
                  check,
                  ok: false,
                  message: `the client does not see ${unknown.join(', ')}; check that the client token's environment is ${input.environment} and its projects include ${input.project}`,
                };
          } catch (error) {
            return { check, ok: false, message: permanentMessage(error) };
          }
        };
        const [flags, client] = await Promise.all([flagChecks, clientCheck()]);
        return [...flags, client];
      }),

    async planFlags(input): Promise<PlannedChange[]> {
      const states = await readStates(input);
      return input.flags.map((flag, i) => ({
        target: `flag ${input.project}/${input.environment} ${flag.name}`,
        current: onOff(states[i]?.enabled),
        desired: onOff(flag.enabled),
        willChange: states[i]?.enabled !== flag.enabled,
      }));
    },

    // Read in parallel, like readStates: the values are recorded before the change, on the step's critical path.
    readFlags(input): Promise<FlagValue[]> {
      return Promise.all(
        input.names.map(async (name): Promise<FlagValue> => {
          try {
            const state = await admin.getFlag(input.project, input.environment, name);
            return { name, enabled: state.enabled };
          } catch (error) {
            if (error instanceof ApplicationFailure && error.type === PermanentFailure.NotFound) {
              return { name, enabled: null };
            }
            throw error;
          }
        }),
      );
    },

    setFlags(input: FlagsInput) {
      return runStep(async () => {
        const states = await readStates(input);
        const toToggle = input.flags.filter((flag, i) => states[i]?.enabled !== flag.enabled);
        await Promise.all(
          toToggle.map((flag) => admin.setEnabled(input.project, input.environment, flag.name, flag.enabled)),
        );

        // Unleash 7 adds a default 100 % strategy when a flag with no enabled strategy is turned on; a server that
        // does not would leave it "on" for no client. Say so now rather than after the confirmation timeout.
        const turnedOn = input.flags.filter((f) => f.enabled);
        const after = await Promise.all(
          turnedOn.map((flag) => admin.getFlag(input.project, input.environment, flag.name)),
        );
        const reachesNoClient = turnedOn
          .filter((_, i) => after[i]?.enabledStrategies === 0)
          .map((flag) => flag.name);
        if (reachesNoClient.length > 0) {
          throw permanentFailure(
            PermanentFailure.FlagNotConfirmed,
            `${reachesNoClient.join(', ')} ${reachesNoClient.length === 1 ? 'is' : 'are'} enabled in ${input.project}/${input.environment} but ha${reachesNoClient.length === 1 ? 's' : 've'} no enabled strategy, so no client sees ${reachesNoClient.length === 1 ? 'it' : 'them'} on; enable or add a strategy (e.g. a 100 % flexibleRollout) in Unleash, then retry the step`,
          );
        }

        const { reads } = await confirm(input);
        const facts: Record<string, string | number | boolean | null> = {
          project: input.project,
          environment: input.environment,
          clientReads: reads,
        };
        input.flags.forEach((flag, i) => {
          const before = onOff(states[i]?.enabled);
          facts[`flag ${flag.name}`] = toToggle.includes(flag)
            ? `${before} → ${onOff(flag.enabled)}`
            : `${before} (unchanged)`;
        });
        const summary =
          toToggle.length === 0
            ? `All ${input.flags.length} flag(s) in ${input.project}/${input.environment} already at their desired values; a client confirms them`
            : `Turned ${toToggle.map((f) => `${f.name} ${onOff(f.enabled)}`).join(', ')} in ${input.project}/${input.environment}; a client sees every desired value`;
        // The undo is what the flags were before this attempt changed them.
        const previous = toToggle.map((flag) => ({ name: flag.name, enabled: !flag.enabled }));
        return {
          changed: toToggle.length > 0,
          summary,
          facts,
          ...(previous.length > 0
            ? {
                compensation: {
                  project: input.project,
                  environment: input.environment,
                  flags: previous,
                },
              }
            : {}),
        };
      });
    },
  };
}

/** Names grouped by first character, each group with its longest common prefix (never empty). */
export function prefixGroups(names: string[]): Map<string, string[]> {
  const byFirst = new Map<string, string[]>();
  for (const name of names) byFirst.set(name.slice(0, 1), [...(byFirst.get(name.slice(0, 1)) ?? []), name]);
  const groups = new Map<string, string[]>();
  for (const group of byFirst.values()) {
    let prefix = group[0] ?? '';
    for (const name of group) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
    groups.set(prefix, [...(groups.get(prefix) ?? []), ...group]);
  }
  return groups;
}

/** A permanent fault becomes a failed check; anything retryable propagates so Temporal retries the check. */
function permanentMessage(error: unknown): string {
  if (error instanceof ApplicationFailure && error.nonRetryable) return error.message;
  throw error;
}
