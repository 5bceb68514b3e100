import { z } from 'zod';
import { name, text } from '../runbooks/schema-parts';

/** A service of a wave: a runbook id, with the services it needs to have succeeded first. */
const serviceSchema = z.union([
  name,
  z
    .object({
      runbook: name,
      /** Runbooks (of this or an earlier wave) that must have succeeded before this one starts. */
      dependsOn: z.array(name).default([]),
    })
    .strict(),
]);

const waveSchema = z
  .object({
    id: name,
    title: text().optional(),
    runbooks: z.array(serviceSchema).min(1).max(100),
    /** How many of this wave's services run at once (a service paused for an operator does not count). */
    concurrency: z.number().int().min(1).max(100).optional(),
    /** Wait for `drctl approve <evacuation> --step <wave>` before starting this wave. */
    approval: z
      .object({ prompt: text().optional(), twoPerson: z.boolean().default(false) })
      .strict()
      .optional(),
  })
  .strict();

/**
 * An evacuation: runbooks in waves that run in order. Within a wave up to `concurrency` services run at once;
 * a service waits for the ones it `dependsOn`. When a service fails, its run pauses for an operator as a
 * failover does (`onServiceFailure: 'pause-service'`, the default) and the others go on; `'stop'` starts no new
 * service after a failure.
 */
export const evacuationSchema = z
  .object({
    id: name,
    title: text(),
    description: z.string().optional(),
    owner: text().optional(),
    waves: z.array(waveSchema).min(1).max(20),
    onServiceFailure: z.enum(['pause-service', 'stop']).default('pause-service'),
  })
  .strict();

export type EvacuationInput = z.input<typeof evacuationSchema>;

/** An evacuation as it runs: plain data, every service spelled out with its dependencies. */
export interface Evacuation {
  id: string;
  title: string;
  description?: string;
  owner?: string;
  onServiceFailure: 'pause-service' | 'stop';
  waves: Array<{
    id: string;
    title?: string;
    /** Defaults to every service of the wave at once. */
    concurrency: number;
    approval?: { prompt?: string; twoPerson: boolean };
    /** Every service of the wave, spelled out (the same field as the input, so a defined evacuation defines again to itself). */
    runbooks: Array<{ runbook: string; dependsOn: string[] }>;
  }>;
}
