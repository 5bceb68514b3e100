import type { Command } from 'commander';

/**
 * The exit codes each command's --help states (the top-level help promises it): 0 ok, 1 the run or check failed,
 * 2 bad input, 3 environment (Temporal, AWS, config), 4 refused. One table, so a command's codes are found and
 * reviewed in one place; commands that state their own (failover, evacuate …) are not listed.
 */
const EXIT_CODES: Record<string, string> = {
  plan: '0 ready, 1 not ready (a pre-flight check would fail), 2 bad input (an unknown or invalid runbook or evacuation), 3 environment (no worker, Temporal unreachable), 4 refused (not permitted).',
  failback:
    '0 succeeded (or started, without --follow), 1 failed, 2 bad input, 3 environment, 4 refused (busy, not permitted, no failover to reverse, not confirmed).',
  status:
    '0 the run succeeded or is running, 1 it failed, was aborted or refused (the evidence ledger: stopped, blocked or not answering), or it is a drill that was called off or refused, 2 bad input (not a drctl run), 3 environment.',
  runs: '0 listed (also when none match), 2 a bad filter, 3 environment.',
  approve:
    '0 accepted, 2 bad input (no reason, a --step that does not wait), 3 environment, 4 refused (not permitted, not waiting, the run has ended).',
  retry:
    '0 accepted, 2 bad input, 3 environment, 4 refused (not permitted, nothing paused, the run has ended).',
  skip: '0 accepted, 2 bad input (no reason), 3 environment, 4 refused (not permitted, nothing paused, the run has ended).',
  abort: '0 accepted, 2 bad input (no reason), 3 environment, 4 refused (not permitted, the run has ended).',
  close:
    '0 closed, 2 bad input (no reason, not a follow-up), 3 environment, 4 refused (not permitted, already closed).',
  decide:
    '0 accepted, 2 bad input (an unknown action, an evacuation), 3 environment, 4 refused (not permitted, nothing paused, the run has ended).',
  'drill run':
    '0 the drill passed (or started, without --follow), 1 it failed or measured nothing (also when called off), 2 bad input, 3 environment, 4 refused (busy, also when another run takes the lock as the drill starts; not permitted).',
  'drill schedule': '0 scheduled, 2 bad input (an unknown time zone), 3 environment.',
  'drill schedules': '0 listed, 3 environment.',
  'drill pause': '0 done, 2 no such schedule, 3 environment, 4 refused.',
  'drill resume': '0 done, 2 no such schedule, 3 environment, 4 refused.',
  'drill delete': '0 done, 2 no such schedule, 3 environment, 4 refused.',
  'drill trigger': '0 done, 2 no such schedule, 3 environment, 4 refused.',
  'drill history': '0 listed, 3 environment.',
  report:
    '0 written, 1 the run ended without a result, 2 bad input (not a drill, evacuation or failover; a format it has not), 3 environment, 4 the run is still running.',
  'evidence list': '0 listed, 3 environment (the evidence store).',
  'evidence show': '0 shown, 2 no bundle for that run, 3 environment.',
  'evidence verify':
    '0 the chain verifies and every closed run compared has its bundle, 1 it does not (a hash, link, signature, sequence or retention; a run without a bundle), 2 bad input, 3 environment.',
  'evidence collect':
    "0 bundled (or already in the chain, or queued), 1 the ledger would not queue it (it dropped the run before), 2 bad input (no such run, still running, a drill's failover: collect the drill), 3 environment.",
  worker: '0 stopped cleanly (SIGINT/SIGTERM), 3 environment (Temporal, AWS, PostgreSQL, Unleash, config).',
  'keys init':
    '0 created, 2 bad input (a bad name), 3 environment, 4 refused (a key file already there, without --force).',
  'keys show': '0 shown, 3 no readable key file.',
  'codec-server': '0 stopped cleanly, 2 bad input, 3 environment (the codec key, the address).',
};

/** Appends each listed command's exit codes to its help; call once every command is registered. */
export function addExitCodes(program: Command, path: string[] = []): void {
  for (const command of program.commands) {
    const name = [...path, command.name()].join(' ');
    const codes = EXIT_CODES[name];
    if (codes !== undefined) command.addHelpText('after', `\nExit codes: ${codes}`);
    addExitCodes(command, [...path, command.name()]);
  }
}
