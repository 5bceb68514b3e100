import { proxyActivities } from '@temporalio/workflow';
import type { BackupsInput, BackupsVerifyActivities } from '../../../kinds/backups-verify/definition';
import type { StepOutcome } from '../../../activities/contracts';

/** The backups.verify step's activity alone, with a heartbeat timeout the test chooses and no retry. */
export async function verifyBackupsOnce(
  input: BackupsInput,
  heartbeatTimeoutMs: number,
): Promise<StepOutcome> {
  const { verifyBackups } = proxyActivities<BackupsVerifyActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { maximumAttempts: 1 },
  });
  return verifyBackups(input);
}
