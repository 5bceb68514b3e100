import { OperatorAuthority, type Expectation, type LoadedPolicy } from '../../../auth';

/**
 * A test workflow: verifies a signed statement inside Temporal's workflow sandbox, with the same pure auth code
 * the failover validators use, and reports the verified owner or the refusal.
 */
export async function verifyStatementWorkflow(
  policy: LoadedPolicy,
  signed: unknown,
  expected: Omit<Expectation, 'now'>,
): Promise<{ owner?: string; refused?: string }> {
  try {
    return { owner: new OperatorAuthority(policy).verify(signed, { ...expected, now: Date.now() }).owner };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}
