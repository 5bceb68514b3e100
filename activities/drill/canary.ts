import { ApplicationFailure } from '@temporalio/common';
import type { CanaryInput, CanaryStats } from '../drill-contracts';
import { isPostgresUnreachable } from '../database/postgres-errors';
import { PermanentFailure, permanentFailure } from '../failures';
import type { CanaryPort, CanaryWriter } from './canary-port';
import type { DrillClock } from './drill-clock';

const HEARTBEAT_EVERY_MS = 1000;

/**
 * The data-plane canary: one row into `drctl_canary` every `intervalMs` on ONE session to `connection`
 * (reconnecting after a failure), counting the rows whose commit was acknowledged.
 *
 * Stops and returns its stats once writes have failed continuously for `stopAfterFailingMs` after at least
 * one success (the primary was stopped or fenced), or after `maxDurationMs`. Before the first success, a
 * permanent error (no such connection, no table, no grant, bad password) fails the activity at once; a
 * canary that never wrote a row by `maxDurationMs` fails too (there is nothing to measure).
 *
 * Sequence numbers are given per INSERT sent. A write that failed because the session died after sending it
 * is "unconfirmed" (it may have committed); a write refused by the server, or never sent, is simply failed.
 */
export async function runCanary(
  input: CanaryInput,
  deps: { canary: CanaryPort; clock: DrillClock },
): Promise<CanaryStats> {
  const { clock } = deps;
  const intervalMs = positive(input.intervalMs, 100);
  const stopAfterFailingMs = positive(input.stopAfterFailingMs, 1000);
  const maxDurationMs = positive(input.maxDurationMs, 10 * 60_000);
  const startedMs = clock.now().getTime();

  const perSecond = new Map<number, number>();
  const unconfirmedSeqs: number[] = [];
  let acknowledged = 0;
  let lastAcknowledgedSeq = 0;
  let lastAcknowledgedAtMs: number | null = null;
  let firstWriteAtMs: number | null = null;
  let failedWrites = 0;
  let lastError: string | null = null;
  let seq = 0;
  let failingSinceMs: number | null = null;
  // When the first write of the current run of failures came back failed: the outage was visible to a client then.
  let failureSeenMs: number | null = null;
  let lastHeartbeatMs = -Infinity;
  let stoppedBecause: CanaryStats['stoppedBecause'] = 'max-duration';
  let writer: CanaryWriter | null = null;

  const stats = (): CanaryStats => ({
    drillId: input.drillId,
    acknowledged,
    lastAcknowledgedSeq,
    lastAcknowledgedAt: iso(lastAcknowledgedAtMs),
    firstWriteAt: iso(firstWriteAtMs),
    failedWrites,
    series: series(perSecond),
    unconfirmedSeqs: [...unconfirmedSeqs],
    stoppedBecause,
    lastError,
    writesFailingSince: stoppedBecause === 'writes-failing' ? iso(failureSeenMs) : null,
  });

  try {
    for (;;) {
      const attemptMs = clock.now().getTime();
      if (attemptMs - startedMs >= maxDurationMs) break;
      let sent = false;
      try {
        writer ??= await deps.canary.openWriter(input.connection);
        const writtenAt = clock.now();
        seq += 1;
        sent = true;
        await writer.insert({ drillId: input.drillId, seq, writtenAt });
        const ms = writtenAt.getTime();
        acknowledged += 1;
        lastAcknowledgedSeq = seq;
        lastAcknowledgedAtMs = ms;
        firstWriteAtMs ??= ms;
        const second = Math.floor(ms / 1000) * 1000;
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
        failingSinceMs = null;
        failureSeenMs = null;
      } catch (error) {
        failureSeenMs ??= clock.now().getTime();
        failedWrites += 1;
        lastError = (error as Error)?.message ?? String(error);
        if (sent && isPostgresUnreachable(error)) unconfirmedSeqs.push(seq);
        if (acknowledged === 0 && isPermanent(error)) throw error;
        await writer?.close();
        writer = null;
        failingSinceMs ??= attemptMs;
        if (acknowledged > 0 && clock.now().getTime() - failingSinceMs >= stopAfterFailingMs) {
          stoppedBecause = 'writes-failing';
          break;
        }
      }
      const nowMs = clock.now().getTime();
      if (nowMs - lastHeartbeatMs >= HEARTBEAT_EVERY_MS) {
        lastHeartbeatMs = nowMs;
        clock.heartbeat({
          acknowledged,
          lastAcknowledgedSeq,
          failedWrites,
          failingForMs: failingSinceMs === null ? 0 : nowMs - failingSinceMs,
          lastError,
        });
      }
      // Paced on a fixed grid from the start: a slow write skips the slots it overran, it does not shift the rest.
      const nextMs = startedMs + (Math.floor((nowMs - startedMs) / intervalMs) + 1) * intervalMs;
      await clock.sleep(Math.max(0, nextMs - nowMs));
    }
  } finally {
    await writer?.close();
  }

  if (acknowledged === 0) {
    throw permanentFailure(
      PermanentFailure.PreflightFailed,
      `the canary wrote no row to connection ${input.connection} in ${maxDurationMs} ms (${failedWrites} failed writes; last error: ${lastError ?? 'none'}); check that the connection names the writable primary and that drctl_canary exists there with insert granted`,
    );
  }
  return stats();
}

function isPermanent(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.nonRetryable === true;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Per-second acknowledged counts from the first to the last second with a write, zeros filled in. */
function series(perSecond: Map<number, number>): Array<[number, number]> {
  if (perSecond.size === 0) return [];
  const seconds = [...perSecond.keys()];
  const first = Math.min(...seconds);
  const last = Math.max(...seconds);
  const out: Array<[number, number]> = [];
  for (let s = first; s <= last; s += 1000) out.push([s, perSecond.get(s) ?? 0]);
  return out;
}
