import { rmSync, writeFileSync } from 'node:fs';
import { runningPid, writePidFile } from '../../sandbox/detached-process';
import { sandboxPaths } from '../../sandbox/sandbox-paths';

/** The sandbox stops the process its pid file names: never a process that got the pid after a restart. */
const NAME = `pid-file-test-${process.pid}`;
afterEach(() => rmSync(sandboxPaths.pidFile(NAME), { force: true }));

test('GIVEN a pid file written for a live process WHEN it is read THEN it names that process', () => {
  writePidFile(NAME, process.pid);
  expect(runningPid(NAME)).toBe(process.pid);
});

test('GIVEN a pid file whose recorded start time is not the live process’s (its pid was reused) WHEN it is read THEN it names no process (before: the stranger, whom `sandbox down` would kill)', () => {
  writeFileSync(sandboxPaths.pidFile(NAME), `${process.pid} 1\n`);
  expect(runningPid(NAME)).toBeUndefined();
});

test('GIVEN a pid file from before start times were recorded WHEN it is read THEN it still names the live process', () => {
  writeFileSync(sandboxPaths.pidFile(NAME), `${process.pid}\n`);
  expect(runningPid(NAME)).toBe(process.pid);
});
