import { recordValues } from '../../common/record-values';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { currentAttempt, heartbeat, sleep } from '../../activities/poll-until';
import type { CheckResult, PromoteOutcome, StepOutcome } from '../../activities/contracts';
import type { EvidenceActivities } from '../../activities/evidence/evidence-contracts';
import type { KindActivities } from '../../kinds/registry';

type Method = keyof KindActivities;

/**
 * A whole estate in memory, behind the activity surface, for workflow tests: database roles, DNS records,
 * flags. It keeps state (what is writable, where DNS points) and counts effects, so a test asserts what the
 * run did to the estate rather than which calls were made. Faults are scripted per method.
 */
export class FakeEstate {
  readonly roles = new Map<string, 'primary' | 'replica' | 'fenced'>();
  readonly dns = new Map<string, string>();
  /** Each record's TTL where it is not the seed's 60 s (another writer's, or a switch's). */
  readonly dnsTtl = new Map<string, number>();
  readonly flags = new Map<string, boolean>();
  replicaLagSeconds = 0;
  /** False: the old primary cannot be reached (a real regional outage), so it cannot be fenced. */
  primaryReachable = true;
  /** Someone else fences the primary between the fence step's plan and its fence (a provider that can tell). */
  fencedByAnotherAfterPlan = false;
  /** Someone lifts a fence the plan read in place before the fence step's fence: the fence changes it again. */
  fenceLiftedAfterPlan = false;
  /**
   * How long a promotion takes to show the replica writable once it is sent (a long promotion wait): the
   * activity heartbeats and sleeps meanwhile, so a cancellation reaches it.
   */
  promotionWaitMs = 0;
  promotions = 0;
  dnsChanges = 0;
  probes = 0;
  private readonly afterEffect = new Map<Method, number>();
  /** Runs that asked for their evidence bundle (workflow ids, in order): the ledger's queue, in memory. */
  readonly evidenceRequests: string[] = [];
  private readonly faults = new Map<
    Method,
    Array<{ type: string; message: string; nonRetryable: boolean }>
  >();

  /** `dns`: each record's value; a record of several values as `a,b`. */
  constructor(seed: { dns: Record<string, string>; flags: string[] }) {
    this.roles.set('primary', 'primary');
    this.roles.set('replica', 'replica');
    for (const [name, value] of Object.entries(seed.dns)) this.dns.set(name, value);
    for (const flag of seed.flags) this.flags.set(flag, false);
  }

  /** The record's TTL, null when it does not exist. */
  private ttlOf(name: string): number | null {
    return this.dns.has(name) ? (this.dnsTtl.get(name) ?? 60) : null;
  }

  /** The next `times` calls of `method` fail with this error before it behaves again. */
  failNext(
    method: Method,
    times: number,
    error: { type: string; message: string; nonRetryable?: boolean },
  ): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push({ ...error, nonRetryable: error.nonRetryable ?? false });
    this.faults.set(method, queue);
  }

  /**
   * The next `times` calls of `method` make their effect and then fail with a retryable error before they
   * report it, as an attempt whose worker died after the effect would.
   */
  failAfterEffect(method: Method, times: number): void {
    this.afterEffect.set(method, (this.afterEffect.get(method) ?? 0) + times);
  }

  /** The operator fixed the cause: scripted faults stop. */
  clearFaults(): void {
    this.faults.clear();
  }

  activities(): KindActivities & Pick<EvidenceActivities, 'requestEvidence'> {
    const outcome = (changed: boolean, summary: string): StepOutcome<never> => ({
      changed,
      summary,
      facts: {},
      providerMs: 1,
      attempt: currentAttempt(),
    });
    const ok = (check: string, passed: boolean, message: string): CheckResult => ({
      check,
      ok: passed,
      message,
    });
    const surface: KindActivities = {
      checkDatabase: async ({ name }) => [
        ok(
          `database ${name}: replica is a standby`,
          this.roles.get('replica') === 'replica',
          `role ${this.roles.get('replica')}`,
        ),
        ok(`database ${name}: lag`, this.replicaLagSeconds <= 30, `${this.replicaLagSeconds}s`),
      ],
      checkDnsRecords: async ({ records }) =>
        records.map((r) => ok(`dns ${r.name}`, this.dns.has(r.name), this.dns.get(r.name) ?? 'missing')),
      checkFlags: async ({ names }) =>
        names.map((n) => ok(`flag ${n}`, this.flags.has(n), this.flags.has(n) ? 'exists' : 'missing')),
      checkBackups: async () => [ok('backups fresh', true, 'newest 1h old')],
      planFence: async () => [
        {
          target: 'primary',
          current: this.fenceLiftedAfterPlan
            ? 'fenced'
            : this.primaryReachable
              ? (this.roles.get('primary') ?? 'unknown')
              : 'unreachable',
          desired: 'fenced',
          // With `fencedByAnotherAfterPlan` the plan reads the primary before that fence: not fenced yet; with
          // `fenceLiftedAfterPlan`, before that lift: fenced already.
          willChange:
            this.primaryReachable &&
            !this.fenceLiftedAfterPlan &&
            (this.roles.get('primary') === 'primary' || this.fencedByAnotherAfterPlan),
        },
      ],
      planPromote: async () => ({
        changes: [
          {
            target: 'replica',
            current: this.roles.get('replica') ?? 'unknown',
            desired: 'primary',
            willChange: this.roles.get('replica') === 'replica',
          },
        ],
        writableEndpoint: '10.0.0.3',
      }),
      planDnsSwitch: async () => [],
      planFlags: async () => [],
      readFlags: async ({ names }) =>
        names.map((name) => ({
          name,
          enabled: this.flags.has(name) ? (this.flags.get(name) as boolean) : null,
        })),
      readDnsRecords: async ({ records }) =>
        records.map(({ name, type }) => ({
          name,
          type,
          ttl: this.dns.has(name) ? this.ttlOf(name) : null,
          // A record of several values is held as `a,b` (see the seed).
          values: this.dns.has(name) ? (this.dns.get(name) as string).split(',') : [],
        })),
      fenceDatabase: async (database) => {
        if (!this.primaryReachable) {
          return {
            ...outcome(false, 'primary unreachable, treated as down'),
            facts: { primaryReachable: false },
          };
        }
        if (this.fencedByAnotherAfterPlan) this.roles.set('primary', 'fenced');
        if (this.fencedByAnotherAfterPlan)
          return { ...outcome(false, 'already fenced by another'), facts: { fencedByAnother: true } };
        if (this.roles.get('primary') === 'fenced') return outcome(false, 'already fenced');
        this.roles.set('primary', 'fenced');
        return { ...outcome(true, 'fenced'), compensation: { database } };
      },
      unfenceDatabase: async () => {
        if (this.roles.get('primary') !== 'fenced') return outcome(false, 'not fenced');
        this.roles.set('primary', 'primary');
        return outcome(true, 'unfenced');
      },
      promoteDatabase: async (): Promise<PromoteOutcome> => {
        if (this.roles.get('replica') === 'primary')
          return { ...outcome(false, 'already primary'), writableEndpoint: '10.0.0.3' };
        this.roles.set('replica', 'primary');
        this.promotions++;
        for (let waited = 0; waited < this.promotionWaitMs; waited += 100) {
          heartbeat({ waitingFor: 'the replica to take writes' });
          await sleep(100);
        }
        return {
          ...outcome(true, 'promoted'),
          writableEndpoint: '10.0.0.3',
          compensation: { kind: 'irreversible', reason: 'a promotion cannot be undone' },
        };
      },
      switchDns: async ({ zone, records, expectedBefore }) => {
        // As the real switch: on its first attempt, a record that no longer holds what the run read ahead is refused
        // (Route 53 refuses the swap's DELETE unless the set matches exactly: its TTL as well as its value).
        if (expectedBefore !== undefined && currentAttempt() === 1) {
          const moved = records.filter((r) => {
            const read = expectedBefore.find((state) => state.name === r.name && state.type === r.type);
            return (
              [...(read?.values ?? [])].sort().join(',') !==
                (this.dns.get(r.name) ?? '').split(',').sort().join(',') ||
              (read?.ttl ?? null) !== this.ttlOf(r.name)
            );
          });
          if (moved.length > 0) {
            throw ApplicationFailure.nonRetryable(
              `${moved.map((r) => r.name).join(', ')} changed since the run read it`,
              'ChangedSinceRead',
            );
          }
        }
        const differing = records.filter(
          (r) => this.dns.get(r.name) !== recordValues(r).join(',') || this.ttlOf(r.name) !== r.ttl,
        );
        if (differing.length === 0) return outcome(false, 'already pointing');
        const previous = differing.map((r) => {
          const held = (this.dns.get(r.name) ?? '').split(',');
          return {
            name: r.name,
            type: r.type,
            ttl: this.ttlOf(r.name) ?? r.ttl,
            value: held[0] ?? '',
            ...(held.length > 1 ? { values: held } : {}),
          };
        });
        for (const r of differing) {
          this.dns.set(r.name, recordValues(r).join(','));
          this.dnsTtl.set(r.name, r.ttl);
        }
        this.dnsChanges++;
        return {
          ...outcome(true, `switched ${differing.length}`),
          compensation: { zone, records: previous },
        };
      },
      setFlags: async ({ project, environment, flags }) => {
        const toggled = flags.filter((f) => this.flags.get(f.name) !== f.enabled);
        for (const f of toggled) this.flags.set(f.name, f.enabled);
        const previous = toggled.map((f) => ({ name: f.name, enabled: !f.enabled }));
        return {
          ...outcome(toggled.length > 0, 'flags set'),
          ...(previous.length > 0 ? { compensation: { project, environment, flags: previous } } : {}),
        };
      },
      verifyBackups: async () => outcome(false, 'backups verified'),
      checkProbe: async () => [ok('probe connection', true, 'configured')],
      runProbe: async () => {
        if (this.roles.get('replica') !== 'primary') {
          throw ApplicationFailure.nonRetryable('the database behind DNS is read-only', 'ProbeFailed');
        }
        this.probes++;
        return outcome(false, 'probe wrote a row');
      },
    };
    for (const method of Object.keys(surface) as Method[]) {
      const original = surface[method] as (...args: unknown[]) => Promise<unknown>;
      (surface as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        const fault = this.faults.get(method)?.shift();
        if (fault)
          throw ApplicationFailure.create({
            message: fault.message,
            type: fault.type,
            nonRetryable: fault.nonRetryable,
          });
        const result = await original(...args);
        const pending = this.afterEffect.get(method) ?? 0;
        if (pending > 0) {
          this.afterEffect.set(method, pending - 1);
          throw ApplicationFailure.create({
            message: `${method}: the attempt died after its effect`,
            type: 'WorkerLost',
            nonRetryable: false,
          });
        }
        return result;
      };
    }
    return {
      ...surface,
      requestEvidence: async () => {
        const { workflowId, runId } = Context.current().info.workflowExecution ?? {
          workflowId: '?',
          runId: '?',
        };
        this.evidenceRequests.push(workflowId);
        return { requested: true, ledgerWorkflowId: 'fake-ledger', workflowId, runId };
      },
    };
  }
}
