import { buildProgram } from './program';
import { enableRunbookMemo } from './runbook-memo';

/** The status a shell gives a program its closed pipe stopped (128 + SIGPIPE), as `yes | head` reports it. */
const STOPPED_BY_CLOSED_PIPE = 141;

// Output piped into a reader that stopped early (`drctl runs | head`): stop quietly, as other command-line tools
// do, instead of crashing with an EPIPE stack trace; with the command's own exit code if it already has one, else
// the closed pipe's, so `set -o pipefail` does not take an unfinished command for a success.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? STOPPED_BY_CLOSED_PIPE);
  });
}

enableRunbookMemo();
void buildProgram().parseAsync(process.argv);
