import type { HttpProbe } from '../../runbooks/schema';
import type { StepOutcome } from '../../activities/contracts';
import { PermanentFailure, permanentFailure } from '../../activities/failures';

type OutcomeBody = Omit<StepOutcome, 'providerMs' | 'attempt'>;

/** Default time one HTTP probe may take. */
const HTTP_PROBE_TIMEOUT_MS = 10_000;

/** The HTTP probe: GET the URL and compare the status. */
export async function runHttpProbe(probe: HttpProbe, fetchImpl: typeof fetch): Promise<OutcomeBody> {
  let status: number;
  try {
    const response = await fetchImpl(probe.url, {
      method: 'GET',
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_PROBE_TIMEOUT_MS),
    });
    status = response.status;
    await response.body?.cancel().catch(() => undefined);
  } catch (error) {
    throw permanentFailure(
      PermanentFailure.ProbeFailed,
      `HTTP probe GET ${probe.url} failed: ${(error as Error)?.message ?? String(error)}; check that the service is up at that URL`,
    );
  }
  if (status !== probe.expectStatus) {
    throw permanentFailure(
      PermanentFailure.ProbeFailed,
      `HTTP probe GET ${probe.url} answered ${status}, expected ${probe.expectStatus}; check the service, or expectStatus in the runbook`,
    );
  }
  return {
    changed: false,
    summary: `GET ${probe.url} answered ${status}`,
    facts: { url: probe.url, status },
  };
}
