import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { LEDGER_WORKFLOW_ID } from '../evidence/ledger-protocol';
import type { SandboxSettings } from './sandbox-settings';
import { temporalAddress, TEMPORAL_NAMESPACE } from './temporal-server';

/**
 * How long ending the ledger waits for its work in flight: a bundle write takes a worker well under a second. The
 * bound is for a ledger whose worker is gone (its pending work would never end).
 */
export const LEDGER_SETTLE_WITHIN_MS = 10_000;
const SETTLE_POLL_MS = 50;
const SCHEDULED_ACTIVITY = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
const SCHEDULED_WORKFLOW_TASK =
  temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED;

/**
 * Ends the namespace's evidence ledger before moto is emptied (reset), or once moto started empty. The ledger's
 * history holds payloads encrypted under moto's KMS keys and its chain position in moto's S3 bucket: both are
 * gone, so a ledger that went on could neither decode its own history nor append to the chain it believes in. The
 * next run's evidence request starts a new ledger on the new, empty bucket.
 *
 * With `settleWithinMs`, it first lets the ledger finish the work it has in flight (a run that just ended asks for
 * its bundle as its last act), at most that long: a reset that emptied moto under a bundle write would fail the
 * write with "evidence bucket does not exist" in the worker's log, for a run whose evidence the reset then
 * discards anyway.
 */
export async function endEvidenceLedger(
  settings: SandboxSettings,
  options: { settleWithinMs?: number } = {},
): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress(settings) });
  try {
    const ledger = new Client({ connection, namespace: TEMPORAL_NAMESPACE }).workflow.getHandle(
      LEDGER_WORKFLOW_ID,
    );
    if (options.settleWithinMs !== undefined) await settled(ledger, options.settleWithinMs);
    await ledger.terminate(
      'sandbox: moto started empty, so the KMS keys and the evidence bucket of this ledger are gone',
    );
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  } finally {
    await connection.close();
  }
}

/**
 * A live worker claims a task within moments (well under a second, on a loaded 2-core machine too); one
 * scheduled longer ago than this and still unclaimed has no worker to run it, and nothing will touch moto for it.
 * The sandbox's Temporal server runs on this machine, so its clock is this one.
 */
const UNCLAIMED_AFTER_MS = 3_000;

/** Resolves once the ledger has no work a worker runs or is about to claim (or is closed), or after `withinMs`. */
async function settled(ledger: WorkflowHandle, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { status, raw } = await ledger.describe();
    const now = Date.now();
    const justScheduled = (at: Timestamp | null | undefined) => now - epochMs(at) < UNCLAIMED_AFTER_MS;
    const task = raw.pendingWorkflowTask;
    const busy =
      (raw.pendingActivities ?? []).some(
        (activity) => activity.state !== SCHEDULED_ACTIVITY || justScheduled(activity.scheduledTime),
      ) ||
      (task != null && (task.state !== SCHEDULED_WORKFLOW_TASK || justScheduled(task.scheduledTime)));
    if (status.name !== 'RUNNING' || !busy || now >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}

type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null };

/** A protobuf Timestamp (its seconds a Long from the gRPC client) in epoch ms; 0 when absent. */
function epochMs(at: Timestamp | null | undefined): number {
  const seconds = at?.seconds;
  const whole = typeof seconds === 'object' && seconds !== null ? seconds.toNumber() : (seconds ?? 0);
  return whole * 1000 + Math.floor((at?.nanos ?? 0) / 1e6);
}
