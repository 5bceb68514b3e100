import { z } from 'zod';
import type { CheckResult, PlannedChange, StepOutcome } from '../../activities/contracts';
import { leafStepSchema } from '../../runbooks/schema-parts';
import { withRunChange } from '../run-change';
import { preflightRequest, type StepKind } from '../step-kind';

export interface FlagsInput {
  project: string;
  environment: string;
  flags: Array<{ name: string; enabled: boolean }>;
}

export interface FlagsCheckInput {
  project: string;
  environment: string;
  names: string[];
}

/** A flag's value as the Admin API reports it now; null when it does not exist. */
export interface FlagValue {
  name: string;
  enabled: boolean | null;
}

/**
 * What undoes a flags step: the flags it toggles, back to what they were before the step, and what the
 * runbook says to do with them when a rollback follows a promotion.
 */
export interface FlagsUndo extends FlagsInput {
  afterPromotion?: 'keep' | 'restore';
}

/** The flags' values before the step changed them, recorded in the timeline (`before`). */
export interface FlagsBefore {
  project: string;
  environment: string;
  flags: FlagValue[];
}

export interface FlagsSetActivities {
  checkFlags(input: FlagsCheckInput): Promise<CheckResult[]>;
  planFlags(input: FlagsInput): Promise<PlannedChange[]>;
  /** Reads the flags' current values (the state the step is about to change). */
  readFlags(input: FlagsCheckInput): Promise<FlagValue[]>;
  setFlags(input: FlagsInput): Promise<StepOutcome<FlagsUndo>>;
}

const schema = leafStepSchema('flags.set', {
  project: z.string().min(1).default('default'),
  environment: z.string().min(1).default('development'),
  flags: z.array(z.object({ name: z.string().min(1), enabled: z.boolean() }).strict()).min(1),
  /**
   * On a rollback after a promotion completed: `keep` these flags as the run left them (degraded mode stays on
   * while the service runs on the new primary), or `restore` them. Default keep: a rollback cannot move the
   * database back, so turning degraded mode off would send the application at a state it is not in.
   */
  rollbackAfterPromotion: z.enum(['keep', 'restore']).default('keep'),
});

type FlagsStep = z.output<typeof schema>;

/** Unleash flags through the Admin API, confirmed by a real client seeing every new value. */
export const flagsSet: StepKind<typeof schema, FlagsSetActivities, FlagsUndo> = {
  kind: 'flags.set',
  description: 'turns Unleash flags on or off (e.g. degraded mode), confirmed by a client seeing the change',
  mutates: true,
  schema,
  activityNames: ['checkFlags', 'planFlags', 'readFlags', 'setFlags'],
  // A flag set twice in one step can never be confirmed (a client would have to see both values at once).
  crossCheck: (step) =>
    step.flags.flatMap((flag, index) => {
      const first = step.flags.findIndex((other) => other.name === flag.name);
      return first === index
        ? []
        : [
            {
              path: `.flags[${index}].name`,
              message: `flag "${flag.name}" is already set by flags[${first}] of this step: name each flag once`,
            },
          ];
    }),
  preflight: (step) => [
    preflightRequest({
      key: `flags:${step.project}/${step.environment}`,
      label: `flags ${step.project}/${step.environment}`,
      items: step.flags.map((flag) => flag.name),
      run: (activities, names) =>
        activities.checkFlags({ project: step.project, environment: step.environment, names }),
    }),
  ],
  async plan(step, context) {
    return { changes: await context.activities.planFlags(flagsInput(step)) };
  },
  async run(step, context) {
    const before = await context.reads.readFlags({
      project: step.project,
      environment: step.environment,
      names: step.flags.map((flag) => flag.name),
    });
    const toChange = step.flags.filter(
      (flag) => before.find((value) => value.name === flag.name)?.enabled !== flag.enabled,
    );
    const restorable = toChange.flatMap((flag) => {
      const was = before.find((value) => value.name === flag.name)?.enabled;
      return typeof was === 'boolean' ? [{ name: flag.name, enabled: was }] : [];
    });
    const undo: FlagsUndo = {
      project: step.project,
      environment: step.environment,
      flags: restorable,
      afterPromotion: step.rollbackAfterPromotion,
    };
    context.controls.beforeEffect({
      willChange: toChange.length > 0,
      ...(restorable.length > 0 ? { undo } : {}),
      before: { project: step.project, environment: step.environment, flags: before } satisfies FlagsBefore,
    });
    const outcome = await context.activities.setFlags(flagsInput(step));
    return withRunChange(outcome, toChange.length > 0, 'the flags');
  },
  async undo(undo, context) {
    const names = undo.flags.map((flag) => `${flag.name} ${flag.enabled ? 'on' : 'off'}`).join(', ');
    if (context.promotion !== 'none' && undo.afterPromotion !== 'restore') {
      return {
        status: 'kept',
        detail:
          `kept as the run left them (not set back to ${names}): a promotion ${context.promotion === 'completed' ? 'completed' : 'may have completed'} ` +
          'in this run, so the service stays on the new primary; the runbook restores these flags after a promotion only with rollbackAfterPromotion: restore',
      };
    }
    const outcome = await context.activities.setFlags({
      project: undo.project,
      environment: undo.environment,
      flags: undo.flags,
    });
    return { status: 'undone', detail: outcome.summary };
  },
  // Each flag goes back to its value before the failover; a flag the failover never reached is left alone.
  failback(step, recorded) {
    const flags = step.flags.flatMap((flag) => {
      const was = recorded.flagsBefore.get(flagKey(step.project, step.environment, flag.name));
      return was === undefined ? [] : [{ name: flag.name, enabled: was }];
    });
    // The failover's title says what it turned on; going back sets them to what they were.
    return flags.length === 0
      ? []
      : [{ ...step, flags, title: `Flags back to their values before ${recorded.run ?? 'the failover'}` }];
  },
  examples: {
    valid: [
      { step: { id: 'degrade', kind: 'flags.set', flags: [{ name: 'degraded-mode', enabled: true }] } },
      {
        step: {
          id: 'degrade',
          kind: 'flags.set',
          flags: [{ name: 'degraded-mode', enabled: true }],
          rollbackAfterPromotion: 'restore',
        },
      },
    ],
    invalid: [
      { step: { id: 'degrade', kind: 'flags.set', flags: [] }, path: '.flags', message: /at least 1 flag/ },
      {
        // Before: valid, and the step always failed FlagNotConfirmed, blaming the flags' strategies.
        step: {
          id: 'degrade',
          kind: 'flags.set',
          flags: [
            { name: 'degraded-mode', enabled: true },
            { name: 'degraded-mode', enabled: false },
          ],
        },
        path: '.flags[1].name',
        message: /flag "degraded-mode" is already set by flags\[0\] of this step/,
      },
      {
        step: { id: 'degrade', kind: 'flags.set', flags: [{ name: 'x', enabled: 'on' }] },
        path: '.flags[0].enabled',
        message: /true or false/,
      },
      {
        step: {
          id: 'degrade',
          kind: 'flags.set',
          flags: [{ name: 'x', enabled: true }],
          rollbackAfterPromotion: 'undo',
        },
        path: '.rollbackAfterPromotion',
        message: /"keep", "restore"/,
      },
    ],
  },
};

/** The key of a flag in `RecordedFailover.flagsBefore`. */
export function flagKey(project: string, environment: string, name: string): string {
  return `${project}/${environment}/${name}`;
}

function flagsInput(step: FlagsStep): FlagsInput {
  return { project: step.project, environment: step.environment, flags: step.flags };
}

/** Flag values a failover recorded before changing them, earliest step first, from its timeline's `before`. */
export function flagsBeforeOf(
  entries: ReadonlyArray<{ kind: string; before?: unknown }>,
): Map<string, boolean> {
  const values = new Map<string, boolean>();
  for (const entry of entries) {
    if (entry.kind !== 'flags.set' || entry.before === undefined) continue;
    const before = entry.before as FlagsBefore;
    for (const flag of before.flags ?? []) {
      const key = flagKey(before.project, before.environment, flag.name);
      if (typeof flag.enabled === 'boolean' && !values.has(key)) values.set(key, flag.enabled);
    }
  }
  return values;
}
