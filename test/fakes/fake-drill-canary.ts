import { PermanentFailure, permanentFailure, transientFailure } from '../../activities/failures';
import { POSTGRES_UNREACHABLE } from '../../activities/database/postgres-errors';
import type { DrillClock } from '../../activities/drill/drill-clock';
import type {
  CanaryPort,
  CanaryReadout,
  CanaryReadQuery,
  CanaryRow,
  CanaryWriter,
} from '../../activities/drill/canary-port';

/** A clock whose sleeps advance time instantly; each write costs `writeMs`. */
export class FakeClock implements DrillClock {
  ms: number;
  readonly heartbeats: unknown[] = [];
  constructor(start = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.ms = start;
  }
  now = (): Date => new Date(this.ms);
  sleep = async (ms: number): Promise<void> => {
    this.ms += ms;
  };
  heartbeat = (details?: unknown): void => {
    this.heartbeats.push(details);
  };
}

/** What the server does with the next connect or write, decided from the fake clock. */
export type ConnectBehaviour = 'ok' | 'refused' | 'no-table';
export type WriteBehaviour = 'commit' | 'read-only' | 'session-dies' | 'session-dies-after-commit';

/** In-memory `drctl_canary`: every committed row, sessions opened and closed (to catch leaks). */
export class FakeCanaryPort implements CanaryPort {
  readonly rows: CanaryRow[] = [];
  opened = 0;
  closed = 0;
  maxOpen = 0;
  connectBehaviour: (nowMs: number) => ConnectBehaviour = () => 'ok';
  writeBehaviour: (nowMs: number, row: CanaryRow) => WriteBehaviour = () => 'commit';
  /** Milliseconds one write takes on the fake clock. */
  writeMs = 2;

  constructor(private readonly clock: FakeClock) {}

  async openWriter(connection: string): Promise<CanaryWriter> {
    const behaviour = this.connectBehaviour(this.clock.ms);
    if (behaviour === 'refused') {
      throw transientFailure(POSTGRES_UNREACHABLE, `cannot reach 127.0.0.2:5432 (connection ${connection})`);
    }
    if (behaviour === 'no-table') {
      throw permanentFailure(PermanentFailure.ConfigurationMissing, 'table drctl_canary does not exist');
    }
    this.opened += 1;
    this.maxOpen = Math.max(this.maxOpen, this.opened - this.closed);
    let open = true;
    return {
      address: '127.0.0.2:5432',
      insert: async (row) => {
        if (!open) throw new Error('insert on a closed writer');
        this.clock.ms += this.writeMs;
        const what = this.writeBehaviour(this.clock.ms, row);
        if (what === 'read-only') {
          throw Object.assign(new Error('cannot execute INSERT in a read-only transaction'), {
            code: '25006',
          });
        }
        if (what === 'session-dies' || what === 'session-dies-after-commit') {
          if (what === 'session-dies-after-commit') this.rows.push(row);
          throw transientFailure(POSTGRES_UNREACHABLE, 'lost the session at 127.0.0.2:5432: 57P01');
        }
        this.rows.push(row);
      },
      close: async () => {
        if (open) this.closed += 1;
        open = false;
      },
    };
  }

  /** Reads `rows` (or `replicated`, when a test sets it: what the promoted database holds). */
  replicated: CanaryRow[] | undefined;
  async readCanary(_connection: string, query: CanaryReadQuery): Promise<CanaryReadout> {
    const rows = (this.replicated ?? this.rows).filter((r) => r.drillId === query.drillId);
    const before = rows.filter((r) => r.writtenAt.getTime() <= query.notAfter.getTime());
    const newest = before.reduce<CanaryRow | null>(
      (a, r) => (a === null || r.writtenAt.getTime() > a.writtenAt.getTime() ? r : a),
      null,
    );
    return {
      address: '127.0.0.3:5432',
      presentRows: rows.length,
      presentAcknowledgedRows: rows.filter(
        (r) => r.seq <= query.lastAcknowledgedSeq && !query.excludeSeqs.includes(r.seq),
      ).length,
      newestPresentAtMs: newest === null ? null : newest.writtenAt.getTime(),
      newestPresentSeq: before.length === 0 ? null : Math.max(...before.map((r) => r.seq)),
    };
  }
}
