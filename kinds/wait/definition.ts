import { formatMs, durationToMs } from '../../runbooks/duration';
import { duration, leafStepSchema } from '../../runbooks/schema-parts';
import { nothingToUndo, type NoActivities, type StepKind } from '../step-kind';

/** A durable timer: survives worker restarts; an abort interrupts it. */
const schema = leafStepSchema('wait', { duration: duration() });

export const wait: StepKind<typeof schema, NoActivities> = {
  kind: 'wait',
  description: 'a durable timer (e.g. let caches expire after a DNS switch)',
  mutates: false,
  schema,
  activityNames: [],
  crossCheck: () => [],
  preflight: () => [],
  async plan(step) {
    return { note: `wait ${step.duration}` };
  },
  async run(step, context) {
    const ms = durationToMs(step.duration);
    await context.controls.sleep(ms);
    return { changed: false, summary: `waited ${formatMs(ms)}` };
  },
  undo: nothingToUndo,
  failback: (step) => [step],
  examples: {
    valid: [{ step: { id: 'settle', kind: 'wait', duration: '30s' } }],
    invalid: [
      { step: { id: 'settle', kind: 'wait' }, path: '.duration', message: /required/ },
      {
        step: { id: 'settle', kind: 'wait', duration: '30 seconds' },
        path: '.duration',
        message: /a duration/,
      },
    ],
  },
};
