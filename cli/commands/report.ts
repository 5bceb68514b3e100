import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { REPORT_FORMATS, type ReportFormat } from '../../reports/report-formats';
import type { Client } from '@temporalio/client';
import type { AuditContext } from '../../reports/audit-mapping';
import type { DrillResult } from '../../workflows/drill-types';
import { CliError, ExitCode } from '../cli-error';
import { note } from '../output';
import { runCommand } from '../run-command';
import type { RunSummary } from '../runs';
import { connectClient } from '../temporal-connection';

const TREND_DRILLS = 12;

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "Render a run's report from its recorded result: a drill's (Markdown, self-contained HTML, JSON, JUnit XML), an evacuation's (md, json, junit), or a failover's or failback's post-incident timeline (md, json).",
    )
    .argument(
      '<run-id>',
      'the drill, e.g. drill-ehr-db-20261127-090000-3fa2c1 (see `drctl runs --kind drill`), an evacuation, or a failover (failover-ehr-db)',
    )
    .option(
      '--run-id <run-id>',
      "which run of that id (Temporal's run id): a runbook's failovers share its lock id (default: the latest; drctl runs lists them)",
    )
    .addOption(new Option('--format <format>', 'report format').choices([...REPORT_FORMATS]).default('md'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option(
      '--policy <file>',
      'the access policy that governed the drill: participants whose every signature verifies are marked verified',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl report drill-ehr-db-20261127-090000-3fa2c1                       # Markdown for a ticket',
        '  drctl report drill-ehr-db-20261127-090000-3fa2c1 --format html --out report.html',
        '  drctl report drill-ehr-db-20261127-090000-3fa2c1 --format junit --out drill.xml   # CI gate: one test per objective',
        '  drctl report drill-ehr-db-20261127-090000-3fa2c1 --policy access-policy.json      # participants verified by signature',
        '  drctl report failover-ehr-db --out INC-4411-timeline.md                    # the latest failover: post-incident timeline',
        '  drctl report evacuation-us-east-1-20261127-031500-9b07e4 --format junit          # one test per service',
        '  drctl report drill-ehr-db-20261127-090000-3fa2c1 --output json                  # json, as --format json',
        '  drctl report drill-us-east-1-20261127-090000-3fa2c1 --format html   # a drill of an evacuation: every service',
      ].join('\n'),
    )
    .action(
      runCommand(
        async (
          context,
          drillId: string,
          given: { format: ReportFormat; out?: string; policy?: string; runId?: string },
          command: Command,
        ) => {
          // --output json without --format: the JSON report, as every other command's --output json gives JSON.
          const formatGiven = command.getOptionValueSource('format') !== 'default';
          if (context.output === 'json' && formatGiven && given.format !== 'json')
            throw new CliError(
              'ConflictingOptions',
              `--output json and --format ${given.format} ask for two formats: drop one (--output json alone prints the JSON report)`,
              ExitCode.BadInput,
            );
          const flags = context.output === 'json' ? { ...given, format: 'json' as const } : given;
          if (flags.out !== undefined) requireWritableDirectory(flags.out);
          const { client, close } = await connectClient(context.config());
          try {
            const { reportedRun } = await import('../reported-run');
            const { run, passedOver } = await reportedRun(client, drillId, flags.runId);
            if (passedOver !== undefined)
              note(
                `the newest run under ${drillId} (run ${passedOver.runId}, ${passedOver.startedAt}) is a start the worker refused, which changed nothing; ` +
                  `this is the report of run ${run.runId}, the newest that ran. The refusal: drctl status ${drillId} --run-id ${passedOver.runId}`,
              );
            const ofRunbookDrill = run.kind === 'drill' && run.workflowType !== 'evacuationDrillWorkflow';
            if (flags.policy !== undefined && !ofRunbookDrill && run.kind !== 'unknown') {
              throw new CliError(
                'PolicyNotUsed',
                `--policy marks the participants of a runbook drill's report verified; ${drillId} is ${run.workflowType === 'evacuationDrillWorkflow' ? 'a drill of an evacuation' : `a ${run.kind}`}, whose report checks no signatures: verify them with drctl verify-run ${drillId} --policy ${flags.policy}`,
                ExitCode.BadInput,
              );
            }
            if (run.kind === 'failover' || run.kind === 'failback') {
              await failoverReport(client, run, flags);
              return;
            }
            if (run.kind === 'evacuation') {
              await evacuationReport(client, run, flags);
              return;
            }
            if (run.kind !== 'drill') {
              throw new CliError(
                'NotADrill',
                `${drillId} is ${run.kind === 'unknown' ? 'not a drctl run' : `a ${run.kind}`}: drctl report renders the reports of drills, evacuations, failovers and failbacks. ` +
                  (run.kind === 'unknown'
                    ? 'List drills with `drctl runs --kind drill`.'
                    : `Its record: drctl status ${drillId} (add --output json for all of it).`),
                ExitCode.BadInput,
              );
            }
            if (run.status === 'RUNNING') {
              throw new CliError(
                'DrillRunning',
                `${drillId} is still running; its report exists once it ends (drctl status ${drillId})`,
                ExitCode.Refused,
              );
            }
            const { fetchDrillResult, fetchEvacuationDrillResult } = await import('../drill-runs');
            const { renderReport } = await import('../../reports');
            if (run.workflowType === 'evacuationDrillWorkflow') {
              const evacuationDrill = await fetchEvacuationDrillResult(client, drillId, run.runId);
              return emit(renderReport(evacuationDrill, flags.format), drillId, flags);
            }
            const result = await fetchDrillResult(client, drillId, run.runId);
            const history = flags.format === 'html' ? await pastDrills(client, result) : [];
            const text = renderReport(
              result,
              flags.format,
              history,
              await auditContext(client, result, flags.policy),
            );
            emit(text, drillId, flags);
          } finally {
            await close();
          }
        },
      ),
    );
}

/**
 * --out names a file in a directory this user can write: checked before anything is read, so a CI gate that gets
 * exit 1 knows the drill failed, not the path (exit 2).
 */
function requireWritableDirectory(out: string): void {
  const directory = dirname(resolve(out));
  try {
    accessSync(directory, constants.W_OK);
  } catch {
    throw new CliError(
      'BadOut',
      `--out ${out}: cannot write there (${directory} does not exist or is not writable); give a file in a writable directory`,
      ExitCode.BadInput,
    );
  }
}

function emit(text: string, runId: string, flags: { format: ReportFormat; out?: string }): void {
  if (flags.out) {
    writeFileSync(flags.out, text);
    note(`wrote ${flags.format} report of ${runId} to ${flags.out}`);
  } else {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** A failover's or failback's post-incident report from its recorded result: Markdown or JSON. */
async function failoverReport(
  client: Client,
  run: RunSummary,
  flags: { format: ReportFormat; out?: string },
): Promise<void> {
  const { FAILOVER_REPORT_FORMATS, renderFailoverReport } = await import('../../reports/render-failover');
  const format = flags.format as (typeof FAILOVER_REPORT_FORMATS)[number];
  if (!FAILOVER_REPORT_FORMATS.includes(format))
    throw new CliError(
      'FormatUnsupported',
      `--format ${flags.format}: a ${run.kind}'s report is ${FAILOVER_REPORT_FORMATS.join(' or ')}`,
      ExitCode.BadInput,
    );
  if (run.status === 'RUNNING')
    throw new CliError(
      'RunStillRunning',
      `${run.workflowId} is still running; its report exists once it ends (drctl status ${run.workflowId} --follow)`,
      ExitCode.Refused,
    );
  const { readRun } = await import('../failover-runs');
  const state = await readRun(client, run.workflowId, run.runId, run.status);
  if (!state.closed || state.result === undefined)
    throw new CliError(
      'NoResult',
      `${run.workflowId} (run ${run.runId}) ended ${run.status.toLowerCase()} without a recorded result${'message' in state ? `: ${state.message}` : ''}; drctl status ${run.workflowId} --run-id ${run.runId} says why`,
      ExitCode.Failed,
    );
  emit(renderFailoverReport(state.result, format), run.workflowId, { ...flags, format });
}

/** An evacuation's report from its recorded result: Markdown, JSON or JUnit (one testcase per service). */
async function evacuationReport(
  client: Client,
  { workflowId, runId, status }: RunSummary,
  flags: { format: ReportFormat; out?: string },
): Promise<void> {
  const { EVACUATION_REPORT_FORMATS, renderEvacuationReport } =
    await import('../../reports/render-evacuation');
  const format = flags.format as (typeof EVACUATION_REPORT_FORMATS)[number];
  if (!EVACUATION_REPORT_FORMATS.includes(format))
    throw new CliError(
      'FormatUnsupported',
      `--format ${flags.format}: an evacuation's report is ${EVACUATION_REPORT_FORMATS.join(', ')}; each of its failovers has its own record (drctl status <run>)`,
      ExitCode.BadInput,
    );
  if (status === 'RUNNING')
    throw new CliError(
      'EvacuationRunning',
      `${workflowId} is still running; its report exists once it ends (drctl status ${workflowId})`,
      ExitCode.Refused,
    );
  const { readEvacuation } = await import('../evacuation-runs');
  const read = await readEvacuation(client, workflowId, runId);
  const text = renderEvacuationReport(read.progress, format, read.refusal);
  if (flags.out) {
    writeFileSync(flags.out, text);
    note(`wrote ${format} report of ${workflowId} to ${flags.out}`);
  } else process.stdout.write(text);
}

/** Earlier completed drills of the same runbook, oldest first, for the HTML trend chart. */
async function pastDrills(client: Client, current: DrillResult): Promise<DrillResult[]> {
  const { drillHistory, fetchDrillResult } = await import('../drill-runs');
  // Only drills before this one, and not those that measured nothing (called off, refused): counted towards the
  // limit, the drills since an older one, or a run of unmeasured ones, would take every place on its trend.
  const entries = await drillHistory(
    client,
    current.runbookId,
    TREND_DRILLS,
    (entry) =>
      entry.status === 'COMPLETED' &&
      entry.outcome !== 'called-off' &&
      entry.outcome !== 'refused' &&
      entry.startedAt < current.startedAt,
  );
  // A past drill whose history cannot be decrypted any more (its key was retired) leaves the trend, not the report.
  const settled = await Promise.allSettled(
    entries.map((entry) => fetchDrillResult(client, entry.drillId, entry.runId)),
  );
  const unreadable = settled.filter((outcome) => outcome.status === 'rejected');
  if (unreadable.length > 0) {
    note(
      `trend: left out ${unreadable.length} past drill(s) whose results could not be read (${(unreadable[0]!.reason as Error).message.split('\n')[0]})`,
    );
  }
  const results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  return results.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** The drill's failover's recorded operator actions, and (given the policy) a check of their signatures. */
async function auditContext(
  client: Client,
  drill: DrillResult,
  policyFile: string | undefined,
): Promise<AuditContext> {
  const { loadPolicyFile } = await import('../../auth/io/policy-file');
  const { signatureCheckFor } = await import('../../auth/recorded-actions');
  const { readRun } = await import('../failover-runs');
  const { failoverRunRecord } = await import('../../reports/failover-run-record');
  const policy = policyFile === undefined ? undefined : loadPolicyFile(policyFile);
  // Its own run: later failovers of the runbook share its workflow id (the lock).
  const state = await readRun(client, drill.failover.workflowId, drill.failover.runId).catch(() => undefined);
  const failover = state?.closed ? state.result : undefined;
  if (!failover) return {};
  return {
    operatorActions: failover.operatorActions,
    ...(policy === undefined
      ? {}
      : {
          checkSignature: signatureCheckFor(
            failoverRunRecord(drill.failover.workflowId, failover, drill.drillId),
            policy,
          ),
        }),
  };
}
