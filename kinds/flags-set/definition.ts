import { z } from 'zod';
import type { CheckResult, PlannedChange, StepOutcome } from '../../activities/contracts';
import { leafStepSchema } from '../../runbooks/schema-parts';
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

/** What undoes a flags step: the flags it toggled, back to what they were. */
export type FlagsUndo = FlagsInput;

export interface FlagsSetActivities {
  checkFlags(input: FlagsCheckInput): Promise<CheckResult[]>;
  planFlags(input: FlagsInput): Promise<PlannedChange[]>;
  setFlags(input: FlagsInput): Promise<StepOutcome<FlagsUndo>>;
}

const schema = leafStepSchema('flags.set', {
  project: z.string().min(1).default('default'),
  environment: z.string().min(1).default('development'),
  flags: z.array(z.object({ name: z.string().min(1), enabled: z.boolean() }).strict()).min(1),
});

/** Unleash flags through the Admin API, confirmed by a real client seeing every new value. */
export const flagsSet: StepKind<typeof schema, FlagsSetActivities, FlagsUndo> = {
  kind: 'flags.set',
  description: 'turns Unleash flags on or off (e.g. degraded mode), confirmed by a client seeing the change',
  mutates: true,
  schema,
  activityNames: ['checkFlags', 'planFlags', 'setFlags'],
  crossCheck: () => [],
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
  run: (step, context) => context.activities.setFlags(flagsInput(step)),
  async undo(undo, context) {
    const outcome = await context.activities.setFlags(undo);
    return { status: 'undone', detail: outcome.summary };
  },
  failback: (step) => [{ ...step, flags: step.flags.map((flag) => ({ ...flag, enabled: !flag.enabled })) }],
  examples: {
    valid: [
      { step: { id: 'degrade', kind: 'flags.set', flags: [{ name: 'degraded-mode', enabled: true }] } },
    ],
    invalid: [
      { step: { id: 'degrade', kind: 'flags.set', flags: [] }, path: '.flags', message: /at least 1 flag/ },
      {
        step: { id: 'degrade', kind: 'flags.set', flags: [{ name: 'x', enabled: 'on' }] },
        path: '.flags[0].enabled',
        message: /true or false/,
      },
    ],
  },
};

function flagsInput(step: z.output<typeof schema>): FlagsInput {
  return { project: step.project, environment: step.environment, flags: step.flags };
}
