import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { currentAttempt } from '../../activities/poll-until';
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
  readonly flags = new Map<string, boolean>();
  replicaLagSeconds = 0;
  /** False: the old primary cannot be reached (a real regional outage), so it cannot be fenced. */
  primaryReachable = true;
  promotions = 0;
  dnsChanges = 0;
  probes = 0;
  /** Runs that asked for their evidence bundle (workflow ids, in order): the ledger's queue, in memory. */
  readonly evidenceRequests: string[] = [];
  private readonly faults = new Map<
    Method,
    Array<{ type: string; message: string; nonRetryable: boolean }>
  >();

  constructor(seed: { dns: Record<string, string>; flags: string[] }) {
    this.roles.set('primary', 'primary');
    this.roles.set('replica', 'replica');
    for (const [name, value] of Object.entries(seed.dns)) this.dns.set(name, value);
    for (const flag of seed.flags) this.flags.set(flag, false);
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
      planFence: async () => [],
      planPromote: async () => ({ changes: [], writableEndpoint: '10.0.0.3' }),
      planDnsSwitch: async () => [],
      planFlags: async () => [],
      fenceDatabase: async (database) => {
        if (!this.primaryReachable) {
          return {
            ...outcome(false, 'primary unreachable, treated as down'),
            facts: { primaryReachable: false },
          };
        }
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
        return {
          ...outcome(true, 'promoted'),
          writableEndpoint: '10.0.0.3',
          compensation: { kind: 'irreversible', reason: 'a promotion cannot be undone' },
        };
      },
      switchDns: async ({ zone, records }) => {
        const differing = records.filter((r) => this.dns.get(r.name) !== r.value);
        if (differing.length === 0) return outcome(false, 'already pointing');
        const previous = differing.map((r) => ({ ...r, value: this.dns.get(r.name) ?? '' }));
        for (const r of differing) this.dns.set(r.name, r.value);
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
        return original(...args);
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
