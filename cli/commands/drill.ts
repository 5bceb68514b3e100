import { Command, Option } from 'commander';
import type { InjectionAction } from '../../activities/drill-contracts';
import type { LoadedEvacuation } from '../../evacuations/catalog';
import { findRunbook } from '../../runbooks/catalog';
import { CliError, ExitCode } from '../cli-error';
import { addGroupExamples } from '../group-examples';
import type { DrillSettings, DrillSubject } from '../drill-runs';
import { note, printJson } from '../output';
import { terminalSafe } from '../terminal-safe';
import { runCommand, type CommandContext } from '../run-command';
import { evacuationDirs, runbookDirs } from '../runbook-dirs';
import { connectClient } from '../temporal-connection';
import { requireWorker } from '../worker-presence';
import { durationToMs, formatMs } from '../../runbooks/duration';

interface DrillFlags {
  reason?: string;
  action: InjectionAction;
  inject?: string;
  canaryInterval: string;
  warmup: string;
  follow?: boolean;
  restoreSandbox?: boolean;
}

export function registerDrill(program: Command): void {
  const drill = program
    .command('drill')
    .description(
      'DR drills: run the failover against an injected failure and measure the achieved RTO and RPO.',
    );

  withDrillSettings(
    drill
      .command('run')
      .description(
        'Run one drill now: of a runbook, or of an evacuation plan (the failure is injected into every database it moves, then the evacuation runs).',
      )
      .argument('<runbook|evacuation>', 'runbook or evacuation id, or file')
      .option('-f, --follow', 'show the failover live and the verdict')
      .option(
        '--restore-sandbox',
        'local stack only, with --follow: after the drill, restore the seeded topology so drills can repeat',
      ),
  ).action(
    runCommand(async (context, reference: string, flags: DrillFlags) => {
      if (flags.restoreSandbox && !flags.follow)
        throw new CliError(
          'RestoreNeedsFollow',
          '--restore-sandbox restores the topology once the drill has ended, so it needs --follow (the command waits for the end)',
          ExitCode.BadInput,
        );
      const { subject, evacuation } = await drillSubjectOf(reference);
      const settings = drillSettings(context, flags);
      const config = context.config();
      const { client, close } = await connectClient(config);
      try {
        await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
        const { drillRunExitCode, followDrill, followEvacuationDrill, refuseBusyRunbook, startDrill } =
          await import('../drill-runs');
        if (evacuation !== undefined) {
          const { refuseOverlaps } = await import('../evacuation-runs');
          await refuseOverlaps(client, evacuation);
        } else await refuseBusyRunbook(client, subject.id);
        const drillId = await startDrill(client, config.temporal.taskQueue, subject, settings);
        if (!flags.follow) {
          if (context.output === 'json') printJson({ drillId, status: 'started' });
          else process.stdout.write(`started ${drillId}\n`);
          return ExitCode.Ok;
        }
        if (context.output === 'text') note(`started ${drillId}`);
        const live = context.output === 'text';
        const result =
          subject.kind === 'evacuation'
            ? await followEvacuationDrill(client, drillId, live)
            : await followDrill(client, drillId, live);
        // The verdict first: a restore that fails must not hide how the drill went.
        if (context.output === 'json') printJson(result);
        else {
          const { renderDrillSummary, renderEvacuationDrillSummary } = await import('../render-drill');
          process.stdout.write(
            `${'evacuationId' in result ? renderEvacuationDrillSummary(result) : renderDrillSummary(result)}\n`,
          );
        }
        if (flags.restoreSandbox) {
          // Loaded on demand: only the local stack has a topology drctl can rebuild by itself.
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous require keeps this CommonJS under tsx.
          const { resetStack } = require('../../sandbox/stack') as typeof import('../../sandbox/stack');
          if (context.output === 'text')
            note('restoring the sandbox topology (replica re-cloned from the original primary)');
          // Said on stderr, as exit 3: stdout holds the verdict alone (one JSON document with --output json).
          const failed = await resetStack().then(
            () => undefined,
            (error: unknown) => error as Error,
          );
          if (failed !== undefined) {
            note(`the drill ended (its verdict above); restoring the sandbox failed: ${failed.message}`);
            return ExitCode.Environment;
          }
        }
        return drillRunExitCode(result);
      } finally {
        await close();
      }
    }),
  );

  withDrillSettings(
    drill
      .command('schedule')
      .description(
        'Schedule a recurring drill (of a runbook or an evacuation) as a Temporal Schedule (overlapping runs are skipped).',
      )
      .argument('<runbook|evacuation>', 'runbook or evacuation id, or file')
      .option('--quarterly', 'on the 15th of January, April, July and October at 09:00 (the default)')
      .option('--cron <expression>', 'a cron expression instead, e.g. "0 9 15 */3 *"')
      .option('--timezone <tz>', 'IANA time zone of the calendar', 'UTC'),
  ).action(
    runCommand(
      async (
        context,
        reference: string,
        flags: DrillFlags & { quarterly?: boolean; cron?: string; timezone: string },
      ) => {
        const timezone = knownTimeZone(flags.timezone);
        if (flags.quarterly && flags.cron !== undefined)
          throw new CliError(
            'BadSchedule',
            '--quarterly and --cron each set the cadence: give one (quarterly is the default)',
            ExitCode.BadInput,
          );
        if (flags.cron !== undefined && flags.cron.trim() === '')
          throw new CliError(
            'BadCron',
            '--cron is empty: give a cron expression (minute hour day-of-month month day-of-week), e.g. "0 9 15 */3 *", or leave it out for quarterly',
            ExitCode.BadInput,
          );
        const { subject } = await drillSubjectOf(reference);
        const settings = drillSettings(context, flags);
        const config = context.config();
        const { client, close } = await connectClient(config);
        try {
          const { scheduleDrill } = await import('../drill-runs');
          const scheduleId = await scheduleDrill(client, config.temporal.taskQueue, subject, settings, {
            timezone,
            ...(flags.cron === undefined ? { quarterly: true } : { cron: flags.cron.trim() }),
          });
          const next = (await client.schedule.getHandle(scheduleId).describe()).info.nextActionTimes[0];
          if (context.output === 'json') printJson({ scheduleId, nextRun: next?.toISOString() ?? null });
          else process.stdout.write(`scheduled ${scheduleId}; next run ${next?.toISOString() ?? 'none'}\n`);
        } finally {
          await close();
        }
      },
    ),
  );

  drill
    .command('schedules')
    .description('List drill schedules with their next run.')
    .action(
      runCommand(async (context) => {
        const { client, close } = await connectClient(context.config());
        try {
          const rows: Array<{
            scheduleId: string;
            paused: boolean;
            /** As given when created (`--cron`, or quarterly); null for schedules created before it was kept. */
            cadence: string | null;
            timezone: string;
            nextRun: string | null;
            recentRuns: number;
          }> = [];
          for await (const schedule of client.schedule.list()) {
            if (!schedule.scheduleId.startsWith('drill-')) continue;
            const cadence = schedule.memo?.cadence;
            rows.push({
              scheduleId: schedule.scheduleId,
              paused: schedule.state.paused,
              cadence: typeof cadence === 'string' ? cadence : null,
              timezone: schedule.spec?.timezone ?? 'UTC',
              nextRun: schedule.info?.nextActionTimes[0]?.toISOString() ?? null,
              recentRuns: schedule.info?.recentActions.length ?? 0,
            });
          }
          if (context.output === 'json') return printJson(rows);
          if (rows.length === 0) {
            process.stdout.write('no drill schedules\n');
            return;
          }
          const { plainTable } = await import('../plain-table');
          const table = await plainTable(
            ['SCHEDULE', 'STATE', 'CADENCE', 'TIME ZONE', 'NEXT RUN', 'RECENT RUNS'],
            rows.map((row) => [
              row.scheduleId,
              row.paused ? 'paused' : 'active',
              terminalSafe(row.cadence ?? '-'),
              row.timezone,
              row.nextRun ?? '-',
              String(row.recentRuns),
            ]),
            ['left', 'left', 'left', 'left', 'left', 'right'],
          );
          process.stdout.write(`${table}\n`);
        } finally {
          await close();
        }
      }),
    );

  for (const [name, description] of [
    ['pause', 'Pause a drill schedule.'],
    ['resume', 'Resume a paused drill schedule.'],
    ['delete', 'Delete a drill schedule (past drills stay in history).'],
    ['trigger', 'Run a scheduled drill now.'],
  ] as const) {
    drill
      .command(name)
      .description(
        `${description} Signed with your key; the latest action's signed statement is kept in the schedule's note (each replaces the one before, and a delete leaves none: keep the --output json reply, which holds it).`,
      )
      .argument('<runbook|evacuation>', 'the runbook or evacuation id the schedule drills')
      .option('--reason <text>', 'why (recorded)')
      .action(
        runCommand(async (context, runbookId: string, flags: { reason?: string }) => {
          const signer = context.signer();
          const { client, close } = await connectClient(context.config());
          try {
            const handle = client.schedule.getHandle(`drill-${runbookId}`);
            const { ScheduleNotFoundError } = await import('@temporalio/client');
            const description = await handle.describe().catch((error: unknown) => {
              if (!(error instanceof ScheduleNotFoundError)) throw error;
              throw new CliError(
                'ScheduleNotFound',
                `no drill schedule ${handle.scheduleId}: drctl drill schedules lists them`,
                ExitCode.BadInput,
              );
            });
            const signed = signer.sign({
              action: 'schedule',
              runId: handle.scheduleId,
              stepId: name,
              runbookId,
              runbookHash: String(description.memo?.runbookHash ?? ''),
              reason: flags.reason?.trim() || `${name} ${handle.scheduleId}`,
            });
            const note = JSON.stringify({ signedStatement: signed });
            if (name === 'pause') await handle.pause(note);
            if (name === 'resume') await handle.unpause(note);
            if (name === 'trigger') {
              // A drill now, beside a run that holds the lock, would only fail at it: refused first (exit 4).
              if (description.memo?.subject !== 'evacuation') {
                const { refuseBusyRunbook } = await import('../drill-runs');
                await refuseBusyRunbook(client, runbookId);
              }
              await handle.update((previous) => ({ ...previous, state: { ...previous.state, note } }));
              await handle.trigger();
            }
            if (name === 'delete') await handle.delete();
            if (context.output === 'json') printJson({ scheduleId: handle.scheduleId, action: name, signed });
            else process.stdout.write(`${handle.scheduleId}: ${name} done (signed by ${signer.name})\n`);
          } finally {
            await close();
          }
        }),
      );
  }

  drill
    .command('history')
    .description(
      "Past drills of a runbook with their measured RTO/RPO and verdict (from Temporal's visibility).",
    )
    .argument('<runbook>', 'runbook id')
    .action(
      runCommand(async (context, runbookId: string) => {
        const { client, close } = await connectClient(context.config());
        try {
          const { drillHistory } = await import('../drill-runs');
          const entries = await drillHistory(client, runbookId);
          if (context.output === 'json') return printJson(entries);
          if (entries.length === 0) {
            process.stdout.write(`no drills of ${runbookId} yet\n`);
            return;
          }
          const { plainTable } = await import('../plain-table');
          const table = await plainTable(
            ['STARTED', 'DRILL', 'OUTCOME', 'RTO', 'RPO'],
            entries.map((entry) => [
              entry.startedAt,
              entry.drillId,
              entry.outcome ?? entry.status.toLowerCase(),
              entry.rtoMs === undefined ? '-' : formatMs(entry.rtoMs),
              entry.rpoMs === undefined ? '-' : formatMs(entry.rpoMs),
            ]),
            ['left', 'left', 'left', 'right', 'right'],
          );
          process.stdout.write(`${table}\n`);
        } finally {
          await close();
        }
      }),
    );

  addGroupExamples(drill, [
    'drctl drill run ehr-db --reason "Q4 drill" --follow',
    'drctl drill run ehr-db --reason "Q4 drill" --action stop-primary --inject stop-primary-vm --follow',
    'drctl drill run us-east-1 --reason "Q4 region drill" --follow   # an evacuation: every service, wave by wave',
    'drctl drill schedule ehr-db --quarterly --timezone Europe/Amsterdam --reason "quarterly drill"',
    'drctl drill schedules',
    'drctl drill pause ehr-db --reason "change freeze until 2027-01-04"',
    'drctl drill resume ehr-db --reason "change freeze over"',
    'drctl drill trigger ehr-db --reason "drill before the audit"',
    'drctl drill delete ehr-db --reason "service retired"',
    'drctl drill history ehr-db',
    'drctl report drill-ehr-db-20261127-090000-3fa2c1 --format html > report.html',
  ]);
}

/** What `reference` names: an evacuation plan (as `drctl plan` resolves it first), else a runbook. */
async function drillSubjectOf(
  reference: string,
): Promise<{ subject: DrillSubject; evacuation?: LoadedEvacuation }> {
  const { findEvacuation } = await import('../../evacuations/catalog');
  const evacuation = findEvacuation(reference, runbookDirs(), evacuationDirs());
  const { evacuationDrill, runbookDrill } = await import('../drill-runs');
  if (evacuation !== undefined) return { subject: evacuationDrill(evacuation), evacuation };
  return { subject: runbookDrill(findRunbook(reference, runbookDirs()).runbook) };
}

function withDrillSettings(command: Command): Command {
  return command
    .option('--reason <text>', 'why (required, recorded with the drill)')
    .addOption(
      new Option('--action <action>', 'the failure to inject')
        .choices(['fence-primary', 'stop-primary'])
        .default('fence-primary'),
    )
    .option(
      '--inject <name>',
      "with stop-primary on self-managed PostgreSQL: which of the worker's configured injections stops it (config drill.injections), e.g. stop-primary-vm",
    )
    .option('--canary-interval <duration>', 'time between canary writes, 10ms to 10s', '100ms')
    .option('--warmup <duration>', 'canary time before the failure is injected, 0s to 5m', '2s');
}

function drillSettings(context: CommandContext, flags: DrillFlags): DrillSettings {
  const reason = flags.reason?.trim();
  if (!reason)
    throw new CliError(
      'ReasonRequired',
      '--reason is required: it is recorded with the drill',
      ExitCode.BadInput,
    );
  if (flags.inject !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(flags.inject))
    throw new CliError(
      'BadInjection',
      `--inject names one of the worker's configured injections (lower-case letters, digits, -), not "${flags.inject}"; the worker never runs a command sent by a client`,
      ExitCode.BadInput,
    );
  if (flags.inject !== undefined && flags.action !== 'stop-primary')
    throw new CliError('BadInjection', '--inject goes with --action stop-primary', ExitCode.BadInput);
  if (flags.action === 'stop-primary' && flags.inject === undefined) {
    note(
      "note: stop-primary without --inject works for RDS only; a PostgreSQL primary needs --inject <name> of the worker's injection that stops it",
    );
  }
  const canaryIntervalMs = durationFlag('--canary-interval', flags.canaryInterval, CANARY_INTERVAL_RANGE);
  const warmupMs = durationFlag('--warmup', flags.warmup, WARMUP_RANGE);
  return {
    reason,
    // Bad input is reported before the key is read: nothing is signed for a command that cannot run.
    signer: context.signer(),
    action: flags.action,
    ...(flags.inject === undefined ? {} : { inject: flags.inject }),
    canaryIntervalMs,
    warmupMs,
  };
}

/**
 * The canary's write interval: the resolution of the measured RPO. Below 10 ms the canary floods the primary it
 * measures; above 10 s the RPO it reports is coarser than any objective worth drilling.
 */
const CANARY_INTERVAL_RANGE = { min: 10, max: 10_000, why: "the canary's writes are the RPO's resolution" };
/** Canary time before the injection: the canary stops on its own after 10 minutes, so it must be long gone by then. */
const WARMUP_RANGE = { min: 0, max: 5 * 60_000, why: 'the canary writes for at most 10 minutes in all' };

function durationFlag(flag: string, value: string, range: { min: number; max: number; why: string }): number {
  let ms: number;
  try {
    ms = durationToMs(value);
  } catch {
    throw new CliError(
      'BadDuration',
      `${flag} must be a duration such as 100ms, 2s or 1m, not "${value}"`,
      ExitCode.BadInput,
    );
  }
  if (ms < range.min || ms > range.max)
    throw new CliError(
      'BadDuration',
      `${flag} must be between ${formatMs(range.min)} and ${formatMs(range.max)} (${range.why}), not "${value}"`,
      ExitCode.BadInput,
    );
  return ms;
}

/**
 * The IANA name of a time zone the calendar knows (Europe/Amsterdam, as written or in any case), or bad input
 * naming the option. An offset (+01:00) is not a zone: a schedule needs its daylight-saving rules.
 */
function knownTimeZone(timeZone: string): string {
  const refused = () =>
    new CliError(
      'BadTimeZone',
      `--timezone must be an IANA time zone such as UTC or Europe/Amsterdam (got "${timeZone}")`,
      ExitCode.BadInput,
    );
  if (/^[+-]/.test(timeZone)) throw refused();
  try {
    return new Intl.DateTimeFormat('en', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw refused();
  }
}
