import { z } from 'zod';
import type { CheckResult, StepOutcome } from '../../activities/contracts';
import { leafStepSchema, zoneRef } from '../../runbooks/schema-parts';
import { nothingToUndo, type StepKind } from '../step-kind';

const sqlProbe = z
  .object({
    type: z.literal('sql'),
    /** Connection whose credentials the probe uses. */
    connection: z.string().min(1),
    /** Resolve the host through this Route 53 record first, as a client would. */
    via: z
      .object({ zone: zoneRef, record: z.string().min(1) })
      .strict()
      .optional(),
    /** Prove the database takes writes, not just reads. */
    write: z.boolean().default(true),
  })
  .strict();

const httpProbe = z
  .object({
    type: z.literal('http'),
    url: z.url(),
    expectStatus: z.number().int().min(100).max(599).default(200),
  })
  .strict();

export type SqlProbe = z.output<typeof sqlProbe>;
export type HttpProbe = z.output<typeof httpProbe>;

export interface ProbeInput {
  probe: SqlProbe | HttpProbe;
}

export interface ProbeActivities {
  /** Pre-flight: the probe's connection is configured and its credentials work; its DNS record exists. */
  checkProbe(input: ProbeInput): Promise<CheckResult[]>;
  runProbe(input: ProbeInput): Promise<StepOutcome>;
}

const schema = leafStepSchema('probe', { probe: z.discriminatedUnion('type', [sqlProbe, httpProbe]) });

/** Proves service is back the way a client would: a SQL write through the switched name, or an HTTP status. */
export const probe: StepKind<typeof schema, ProbeActivities> = {
  kind: 'probe',
  description: 'a client-eye check: a SQL write through the switched DNS name, or an HTTP status',
  mutates: false,
  schema,
  activityNames: ['checkProbe', 'runProbe'],
  crossCheck: () => [],
  preflight: (step) =>
    step.probe.type === 'sql'
      ? [
          {
            key: `probe:${step.probe.connection}:${step.probe.via?.record ?? ''}`,
            label: `probe ${step.id}`,
            items: [],
            run: (activities) => activities.checkProbe({ probe: step.probe }),
          },
        ]
      : [],
  async plan(step) {
    const { probe: p } = step;
    return {
      note:
        p.type === 'sql'
          ? `SQL ${p.write ? 'write' : 'read'} probe with connection ${p.connection}` +
            (p.via ? ` through ${p.via.record}` : '')
          : `HTTP GET ${p.url}, expect ${p.expectStatus}`,
    };
  },
  run: (step, context) => context.activities.runProbe({ probe: step.probe }),
  undo: nothingToUndo,
  failback: (step) => [step],
  examples: {
    valid: [
      {
        step: {
          id: 'probe',
          kind: 'probe',
          probe: { type: 'sql', connection: 'app', via: { zone: { name: 'z.' }, record: 'db.z.' } },
        },
      },
      {
        step: { id: 'probe', kind: 'probe', probe: { type: 'http', url: 'https://app.example.com/health' } },
      },
    ],
    invalid: [
      {
        step: { id: 'probe', kind: 'probe', probe: { type: 'http', url: 'not a url' } },
        path: '.probe.url',
        message: /must be a URL/,
      },
      {
        step: { id: 'probe', kind: 'probe', probe: { type: 'tcp' } },
        path: '.probe.type',
        message: /"sql", "http"|sql, http/,
      },
    ],
  },
};
