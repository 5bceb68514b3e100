/**
 * Some unit tests run the `drctl` command as a process; on a loaded 2-core machine its start alone can take
 * seconds, so jest's 5 s default would fail them for the machine's sake, not the code's.
 */
jest.setTimeout(30_000);
