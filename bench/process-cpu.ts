import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { runningPid } from '../sandbox/detached-process';
import { MOTO_PROCESS } from '../sandbox/moto-server';
import { STRICT_AWS_PROCESS } from '../sandbox/strict-aws-process';
import { TEMPORAL_PROCESS } from '../sandbox/temporal-server';

/**
 * Where a benchmark's CPU went: the machine's busy share and, per process of the local stack, CPU time from Linux's
 * /proc (utime + stime, in clock ticks: 100 a second on Linux). On a 2-core machine the emulators (moto is one
 * Python process, the Temporal dev server one Go process) compete with the worker: a figure taken while the cores
 * are busy measures the emulators as much as drctl.
 */
const TICKS_PER_SECOND = 100;

interface Sample {
  at: number;
  machine: { busy: number; total: number };
  processes: Record<string, number | undefined>;
}

export interface CpuShare {
  /** Share of all the machine's cores that was busy, 0–1. */
  machineBusy: number;
  cores: number;
  /** CPU seconds per wall second of each process (1 = one core), undefined where it was not found. */
  perProcess: Record<string, number | undefined>;
}

/** The processes sampled: the sandbox's emulators by their pid files, and this process (the bench and its worker). */
function pids(): Record<string, number | undefined> {
  return {
    moto: runningPid(MOTO_PROCESS),
    'temporal dev server': runningPid(TEMPORAL_PROCESS),
    'strict AWS layer': runningPid(STRICT_AWS_PROCESS),
    'this process (bench + worker)': process.pid,
  };
}

function processTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command (which may hold spaces, inside parentheses): utime is the 14th, stime the 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } {
  const [, ...values] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const ticks = values.map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

export function sampleCpu(): Sample {
  const processes = Object.fromEntries(
    Object.entries(pids()).map(([name, pid]) => [name, processTicks(pid)]),
  );
  return { at: performance.now(), machine: machineTicks(), processes };
}

export function cpuShareSince(before: Sample, after: Sample = sampleCpu()): CpuShare {
  const seconds = (after.at - before.at) / 1000;
  const perProcess: Record<string, number | undefined> = {};
  for (const [name, ticks] of Object.entries(after.processes)) {
    const earlier = before.processes[name];
    perProcess[name] =
      ticks === undefined || earlier === undefined || seconds <= 0
        ? undefined
        : (ticks - earlier) / TICKS_PER_SECOND / seconds;
  }
  const total = after.machine.total - before.machine.total;
  return {
    machineBusy: total > 0 ? (after.machine.busy - before.machine.busy) / total : 0,
    cores: cpus().length,
    perProcess,
  };
}

export function describeCpuShare(share: CpuShare): string {
  const parts = Object.entries(share.perProcess)
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .map(([name, cores]) => `${name} ${Math.round(cores * 100)} %`);
  return `the machine's ${share.cores} cores ${Math.round(share.machineBusy * 100)} % busy; of one core: ${parts.join(', ')}`;
}
