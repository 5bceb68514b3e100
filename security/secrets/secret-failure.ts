import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { SecretError } from './secret-error';

/**
 * Runs `work`, turning a SecretError into a permanent activity failure: a missing or forbidden secret does not
 * heal by retrying. `what` says what the secret was for (`PostgreSQL connection "ehr-primary"`).
 */
export async function withSecretFailures<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    throw permanentFailure(
      error.code === 'SecretAccessDenied'
        ? PermanentFailure.AccessDenied
        : PermanentFailure.ConfigurationMissing,
      `${what}: ${error.message}`,
    );
  }
}
