import { createInterface } from 'node:readline/promises';
import { CliError, ExitCode } from './cli-error';

/** Refuses a start that needs a confirmation when there is no terminal to confirm on. */
export function requireTerminal(): void {
  if (!process.stdin.isTTY) {
    throw new CliError(
      'ConfirmationNeeded',
      'not starting: no terminal to confirm on. Review `drctl plan` and pass --yes to start without a prompt.',
      ExitCode.Refused,
    );
  }
}

/**
 * Asks the operator to type the runbook's (or evacuation's) id; anything else means no. Refuses outright without
 * a terminal.
 */
export async function confirmStart(id: string, what: 'failover' | 'evacuation' = 'failover'): Promise<void> {
  requireTerminal();
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`Type "${id}" to start the ${what}, anything else to cancel: `);
  prompt.close();
  if (answer.trim() !== id) {
    throw new CliError(
      'NotConfirmed',
      `${what} not started: the confirmation did not match`,
      ExitCode.Refused,
    );
  }
}
