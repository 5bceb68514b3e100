import { buildProgram } from './program';
import { enableRunbookMemo } from './runbook-memo';

// Output piped into a reader that stops early (`drctl runs | head`): the reader has what it wanted, so stop
// quietly, as other command-line tools do, instead of crashing with an EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

enableRunbookMemo();
void buildProgram().parseAsync(process.argv);
