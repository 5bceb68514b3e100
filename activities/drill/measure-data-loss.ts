import type { DataLossMeasurement, MeasureDataLossInput } from '../drill-contracts';
import { PermanentFailure, permanentFailure } from '../failures';
import type { CanaryPort, CanaryReadout } from './canary-port';

/**
 * Measures what the promoted database lost of the canary's acknowledged writes.
 *
 * Read on the promoted database (`connection`), for `drillId`:
 * - presentRows: every canary row of the drill present;
 * - presentAcknowledged: present rows with seq <= canary.lastAcknowledgedSeq, not counting the canary's
 *   unconfirmed seqs (writes whose session died after sending: they may have committed without an ack);
 * - newestPresentAt / newestPresentSeq: max(written_at) and max(seq) among present rows with
 *   written_at <= injectedAt (client timestamps, the worker clock that also timed the injection).
 *
 * Then:
 * - lostRows = canary.acknowledged − presentAcknowledged: acknowledged commits the new primary does not have.
 *   It cannot be negative; if it would be, the table holds rows of another canary with this drillId (error).
 * - rpoMs = max(0, injectedAt − newestPresentAt): how far back in time the promoted database's copy of the
 *   canary stops. With the canary writing every intervalMs, a loss-free failover shows rpoMs below
 *   intervalMs (+ replication lag). When no row of the drill is present, newestPresentAt is null and rpoMs is
 *   measured from canary.firstWriteAt (a lower bound: everything the canary saw was lost).
 */
export async function measureDataLoss(
  input: MeasureDataLossInput,
  deps: { canary: CanaryPort },
): Promise<DataLossMeasurement> {
  const injectedAt = parseTime(input.injectedAt, 'injectedAt');
  const readout = await deps.canary.readCanary(input.connection, {
    drillId: input.drillId,
    lastAcknowledgedSeq: input.canary.lastAcknowledgedSeq,
    excludeSeqs: input.canary.unconfirmedSeqs ?? [],
    notAfter: new Date(injectedAt),
  });
  return computeDataLoss(input, readout);
}

/** The arithmetic of `measureDataLoss`, on a readout (pure). */
export function computeDataLoss(input: MeasureDataLossInput, readout: CanaryReadout): DataLossMeasurement {
  const injectedAt = parseTime(input.injectedAt, 'injectedAt');
  const lostRows = input.canary.acknowledged - readout.presentAcknowledgedRows;
  if (lostRows < 0) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `drctl_canary at ${readout.address} (connection ${input.connection}) holds ${readout.presentAcknowledgedRows} acknowledged-range rows for drill ${input.drillId}, more than the ${input.canary.acknowledged} the canary acknowledged; another canary used this drill id: re-run the drill with a fresh id`,
    );
  }
  const from =
    readout.newestPresentAtMs ??
    (input.canary.firstWriteAt === null ? null : parseTime(input.canary.firstWriteAt, 'firstWriteAt'));
  return {
    newestPresentAt:
      readout.newestPresentAtMs === null ? null : new Date(readout.newestPresentAtMs).toISOString(),
    newestPresentSeq: readout.newestPresentSeq ?? 0,
    presentRows: readout.presentRows,
    lostRows,
    rpoMs: from === null ? 0 : Math.max(0, injectedAt - from),
  };
}

function parseTime(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${field} "${value}" is not an ISO timestamp; pass the value the drill activities returned`,
    );
  }
  return ms;
}
