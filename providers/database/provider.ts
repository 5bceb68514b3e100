import type { z } from 'zod';

/**
 * The pure half of a database provider: the shape of its target in `targets.databases`, how a failback
 * swaps its members, and cases for the shared tester. Its I/O half is `strategy.ts` in the same folder
 * (`createStrategy(ports, poll)`), loaded by the worker by the provider's name.
 */
export interface DatabaseProvider<Schema extends z.ZodObject = z.ZodObject> {
  readonly provider: z.output<Schema> extends { provider: infer P extends string } ? P : never;
  readonly description: string;
  /**
   * Whether the reads a step makes before its effect (planFence, planPromote) are quick calls that share no rate
   * limit and loop over nothing: then a run makes them local activities (kinds/step-kind.ts `RunContext.reads`).
   * AWS providers say false: their calls wait for the worker's shared AWS pacer and are coalesced across runs.
   */
  readonly readsLocally: boolean;
  readonly targetSchema: Schema;
  /** The target of the failback runbook (members' roles swapped); throws FailbackUnsupportedError if none. */
  failback(name: string, target: z.output<Schema>): z.output<Schema>;
  readonly examples: {
    valid: Array<Record<string, unknown>>;
    invalid: Array<{ target: Record<string, unknown>; path: string; message: RegExp }>;
  };
}
