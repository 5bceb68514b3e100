import { PermanentFailure, permanentFailure } from '../../activities/failures';
import type { FlagState, UnleashAdminPort } from '../../activities/flags/unleash-admin-port';
import type { UnleashClientReader } from '../../activities/flags/unleash-client-reader';

interface FakeFlag {
  enabled: boolean;
  strategies: number;
  enabledStrategies: number;
}

/**
 * In-memory Unleash behind both ports. `flags` is public state for assertions; `reader({ lagReads })` returns a
 * client that keeps seeing the values from before the latest toggle for that many reads, as a polling SDK does.
 */
export class FakeUnleash implements UnleashAdminPort {
  readonly flags = new Map<string, FakeFlag>();
  readonly toggles: Array<{ name: string; enabled: boolean }> = [];
  private snapshotBeforeToggle: Map<string, boolean> | undefined;
  private staleReadsLeft = 0;
  private lagReads = 0;

  constructor(
    private readonly options: { project?: string; environment?: string; addsDefaultStrategy?: boolean } = {},
  ) {}

  private get project(): string {
    return this.options.project ?? 'default';
  }

  private get environment(): string {
    return this.options.environment ?? 'development';
  }

  addFlag(name: string, flag: Partial<FakeFlag> = {}): void {
    const strategies = flag.strategies ?? 1;
    this.flags.set(name, {
      enabled: flag.enabled ?? false,
      strategies,
      enabledStrategies: flag.enabledStrategies ?? strategies,
    });
  }

  async getFlag(project: string, environment: string, name: string): Promise<FlagState> {
    const flag = this.find(project, environment, name);
    return { name, ...flag };
  }

  async setEnabled(project: string, environment: string, name: string, enabled: boolean): Promise<void> {
    const flag = this.find(project, environment, name);
    if (this.staleReadsLeft === 0) this.snapshotBeforeToggle = this.clientView();
    this.staleReadsLeft = this.lagReads;
    flag.enabled = enabled;
    // Like Unleash 7 (seen in the sandbox): turning on a flag with no enabled strategy adds a default 100 % one.
    if (enabled && flag.enabledStrategies === 0 && this.options.addsDefaultStrategy !== false) {
      flag.strategies += 1;
      flag.enabledStrategies = 1;
    }
    this.toggles.push({ name, enabled });
  }

  /** A client reader; `lagReads` reads after a toggle still return the values from before it. */
  reader(options: { lagReads?: number } = {}): UnleashClientReader & {
    reads: number;
    namePrefixes: Array<string | undefined>;
  } {
    this.lagReads = options.lagReads ?? 0;
    const reader = {
      reads: 0,
      namePrefixes: [] as Array<string | undefined>,
      watch: async (
        names: string[],
        until: (seen: Record<string, boolean | null>) => boolean,
        watchOptions: { timeoutMs: number; intervalMs?: number },
      ) => {
        const deadline = Date.now() + watchOptions.timeoutMs;
        let reads = 0;
        for (;;) {
          const seen = await reader.read(names);
          reads++;
          if (until(seen)) return { seen, reads, satisfied: true };
          if (Date.now() >= deadline) return { seen, reads, satisfied: false };
          await new Promise((resolve) => setTimeout(resolve, watchOptions.intervalMs ?? 1));
        }
      },
      read: async (names: string[], readOptions: { namePrefix?: string } = {}) => {
        reader.namePrefixes.push(readOptions.namePrefix);
        reader.reads++;
        const stale = this.staleReadsLeft > 0 && this.snapshotBeforeToggle !== undefined;
        const view = stale ? (this.snapshotBeforeToggle as Map<string, boolean>) : this.clientView();
        if (this.staleReadsLeft > 0) this.staleReadsLeft--;
        const seen: Record<string, boolean | null> = {};
        for (const name of names) {
          const visible = view.has(name) && name.startsWith(readOptions.namePrefix ?? '');
          seen[name] = visible ? (view.get(name) as boolean) : null;
        }
        return seen;
      },
    };
    return reader;
  }

  /** What an SDK evaluates with no context: on only when enabled and some strategy is enabled. */
  private clientView(): Map<string, boolean> {
    return new Map([...this.flags].map(([name, f]) => [name, f.enabled && f.enabledStrategies > 0]));
  }

  private find(project: string, environment: string, name: string): FakeFlag {
    const flag = this.flags.get(name);
    if (project !== this.project || environment !== this.environment || !flag) {
      throw permanentFailure(
        PermanentFailure.NotFound,
        `Unleash has no flag ${name} in ${project}/${environment}; fix the runbook`,
      );
    }
    return flag;
  }
}
