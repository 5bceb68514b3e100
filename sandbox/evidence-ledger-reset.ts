import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { LEDGER_WORKFLOW_ID } from '../evidence/ledger-protocol';
import type { SandboxSettings } from './sandbox-settings';
import { temporalAddress, TEMPORAL_NAMESPACE } from './temporal-server';

/**
 * Ends the namespace's evidence ledger when moto starts empty (started anew, or reset). The ledger's history holds
 * payloads encrypted under moto's KMS keys and its chain position in moto's S3 bucket: both are gone, so a ledger
 * that went on could neither decode its own history nor append to the chain it believes in. The next run's
 * evidence request starts a new ledger on the new, empty bucket.
 */
export async function endEvidenceLedger(settings: SandboxSettings): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress(settings) });
  try {
    await new Client({ connection, namespace: TEMPORAL_NAMESPACE }).workflow
      .getHandle(LEDGER_WORKFLOW_ID)
      .terminate(
        'sandbox: moto started empty, so the KMS keys and the evidence bucket of this ledger are gone',
      );
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  } finally {
    await connection.close();
  }
}
