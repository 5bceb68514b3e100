import { Command } from 'commander';
import type { ChainEntry } from '../../evidence/chain-listing';
import type { Since, VerifyReport } from '../../evidence/verify-chain';
import type { DrctlConfig } from '../../worker/config';
import { CliError, ExitCode, type ExitCodeValue } from '../cli-error';
import { printJson } from '../output';
import { runCommand, type CommandContext } from '../run-command';
import { terminalSafe } from '../terminal-safe';
import { parseCalendarDate } from '../calendar-date';

export function registerEvidence(program: Command): void {
  const evidence = program
    .command('evidence')
    .description(
      'The evidence chain: one signed, hash-chained bundle per failover, failback and drill, kept under S3 Object Lock.',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl evidence list',
        '  drctl evidence show drill-ehr-db-20261127-090000-3fa2c1',
        '  drctl evidence verify',
        '  drctl evidence verify --since 2026-10-01',
        '  drctl evidence verify --since 120 --output json',
        '',
        'Settings: DRCTL_EVIDENCE_BUCKET, DRCTL_EVIDENCE_PREFIX, DRCTL_EVIDENCE_PUBLIC_KEY_FILES (or the config file).',
      ].join('\n'),
    );

  evidence
    .command('list')
    .description('Every bundle in the chain, in sequence order.')
    .addHelpText('after', '\nExamples:\n  drctl evidence list\n  drctl evidence list --output json')
    .action(
      runCommand(async (context) =>
        withChain(context, async (chain) => {
          const entries = await chain.list();
          if (context.output === 'json') printJson(entries.map(summaryOf));
          else if (entries.length === 0) process.stdout.write(`no evidence yet in ${chain.where}\n`);
          else {
            const { plainTable } = await import('../plain-table');
            const table = await plainTable(
              ['SEQUENCE', 'WRITTEN', 'KIND', 'OUTCOME', 'RUN', 'FILES'],
              entries.map(listRow),
              ['right', 'left', 'left', 'left', 'left', 'right'],
            );
            process.stdout.write(`${table}\n`);
          }
          return ExitCode.Ok;
        }),
      ),
    );

  evidence
    .command('show')
    .description("A run's evidence bundle: its manifest, files with their SHA-256, and the signature check.")
    .argument('<run>', 'workflow id or run id of a failover, failback or drill')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl evidence show failover-ehr-db\n  drctl evidence show drill-ehr-db-20261127-090000-3fa2c1 --output json',
    )
    .action(
      runCommand(async (context, run: string) =>
        withChain(context, async (chain) => {
          const found = await chain.find(run);
          if (found.length === 0) {
            throw new CliError(
              'NoEvidence',
              `no evidence bundle of run "${run}" in ${chain.where}: check the id with \`drctl evidence list\` (a run's bundle is written moments after it closes)`,
              ExitCode.BadInput,
            );
          }
          if (context.output === 'json')
            printJson(found.map((entry) => ({ ...summaryOf(entry), manifest: entry.manifest })));
          else process.stdout.write(`${found.map(showText).join('\n\n')}\n`);
          return ExitCode.Ok;
        }),
      ),
    );

  evidence
    .command('collect')
    .description(
      'Bundle a closed run that never asked for its bundle (terminated, timed out, or refused before refusals were bundled): the ledger collects its history and result from Temporal, as it does when a run ends.',
    )
    .argument(
      '<workflow-id>',
      'the run, e.g. failover-ehr-db (evidence verify names each run without a bundle)',
    )
    .option('--run-id <temporal-run-id>', 'which run of that id (default: the latest)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl evidence collect failover-ehr-db --run-id 01a22fea-cd60-7958-aea2-f89776fe0705',
        '  drctl evidence collect drill-ehr-db-20261201-050117-888d97',
        '',
        'Waits up to 60 s for the bundle and prints its sequence; a run already in the chain is not bundled twice.',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { runId?: string }) =>
        withChain(context, async (chain) => {
          const { connectClient } = await import('../temporal-connection');
          const { requestBundle } = await import('../evidence-collect');
          const { client, close } = await connectClient(context.config());
          let asked: Awaited<ReturnType<typeof requestBundle>>;
          try {
            asked = await requestBundle(
              client,
              context.config().evidence.taskQueue,
              workflowId,
              flags.runId,
              async (runId) => (await chain.find(runId))[0]?.sequence,
            );
          } finally {
            await close();
          }
          if (!('request' in asked)) {
            report(context, { workflowId, ...asked, already: true });
            return ExitCode.Ok;
          }
          const { request } = asked;
          const deadline = Date.now() + COLLECT_WAIT_MS;
          for (;;) {
            const written = (await chain.find(request.runId))[0];
            if (written !== undefined || Date.now() > deadline) {
              report(context, {
                workflowId,
                runId: request.runId,
                sequence: written?.sequence ?? null,
                already: false,
              });
              return ExitCode.Ok;
            }
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }),
      ),
    );

  evidence
    .command('verify')
    .description(
      'Walk the chain and re-check every file hash, manifest link, signature, sequence and retention, then check that every failover, failback and drill Temporal shows closed since the chain began has its bundle; exit 1 on any problem.',
    )
    .option(
      '--since <date|sequence>',
      'start at this sequence number, or at the first bundle written on or after this date',
    )
    .option(
      '--chain-only',
      "check the chain only, not Temporal's closed runs against it (with S3 access alone)",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  drctl evidence verify\n  drctl evidence verify --since 2026-10-01\n  drctl evidence verify --since 42 --output json\n  drctl evidence verify --chain-only',
    )
    .action(
      runCommand(async (context, flags: { since?: string; chainOnly?: boolean }) => {
        const since = flags.since === undefined ? undefined : parseSince(flags.since);
        return withChain(context, async (chain) => {
          const report = flags.chainOnly
            ? await chain.verify(since)
            : await withClosedRuns(context.config(), since, chain);
          if (context.output === 'json') printJson(report);
          else process.stdout.write(`${verifyText(report, since)}\n`);
          return report.ok ? ExitCode.Ok : ExitCode.Failed;
        });
      }),
    );
}

/** How long `evidence collect` waits for the ledger to write the bundle before it says it is queued. */
const COLLECT_WAIT_MS = 60_000;

function report(
  context: CommandContext,
  outcome: { workflowId: string; runId: string; sequence: number | null; already: boolean },
): void {
  if (context.output === 'json') return printJson(outcome);
  const run = `${outcome.workflowId} run ${outcome.runId}`;
  process.stdout.write(
    `${
      outcome.already
        ? `${run} is already in the chain: bundle ${outcome.sequence}`
        : outcome.sequence === null
          ? `${run} is queued at the ledger; drctl evidence show ${outcome.workflowId} shows its bundle once written`
          : `${run} bundled: bundle ${outcome.sequence} (drctl evidence show ${outcome.workflowId})`
    }\n`,
  );
}

/** The chain's report with Temporal's closed runs compared against it; a run without its bundle fails it. */
async function withClosedRuns(
  config: DrctlConfig,
  since: Since | undefined,
  chain: Chain,
): Promise<VerifyReport> {
  const { verifyWithClosedRuns } = await import('../evidence-coverage');
  const bundledOutsideRange = async (runId: string): Promise<boolean> => (await chain.find(runId)).length > 0;
  return verifyWithClosedRuns(config, () => chain.verify(since), since, bundledOutsideRange);
}

interface Chain {
  where: string;
  list(): Promise<ChainEntry[]>;
  /** The bundles naming a run, read through the chain's run index. */
  find(run: string): Promise<ChainEntry[]>;
  verify(since?: Since): Promise<VerifyReport>;
}

async function withChain(
  context: CommandContext,
  work: (chain: Chain) => Promise<ExitCodeValue>,
): Promise<ExitCodeValue> {
  const config: DrctlConfig = context.config();
  if (!config.evidence.bucket) {
    throw new CliError(
      'EvidenceNotConfigured',
      'no evidence bucket configured: set DRCTL_EVIDENCE_BUCKET (or evidence.bucket in the config file)',
      ExitCode.Environment,
    );
  }
  // Loaded here, not at start-up: the AWS SDK would slow every other command down.
  const ports: typeof import('../../worker/evidence-ports') =
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous require keeps this CommonJS under tsx.
    require('../../worker/evidence-ports');
  const { createEvidenceStore, evidenceLayout, loadTrustedKeys } = ports;
  const { findBundles, listChain } = await import('../../evidence/chain-listing');
  const { verifyChain } = await import('../../evidence/verify-chain');
  const trustedKeys = loadTrustedKeys(config);
  const { store, close } = createEvidenceStore(config);
  const layout = evidenceLayout(config);
  try {
    return await work({
      where: `${store!.location}/${layout.root}`,
      list: () => listChain(store!, layout, trustedKeys),
      find: (run) => findBundles(store!, layout, trustedKeys, run),
      verify: (since) =>
        verifyChain(store!, layout, {
          trustedKeys,
          minimumYears: config.evidence.retentionYears,
          ...(since ? { since } : {}),
        }),
    });
  } catch (error) {
    // S3 errors arrive as the activities' typed failures: the bucket, credentials or endpoint are wrong.
    const { ApplicationFailure } = await import('@temporalio/common');
    if (error instanceof ApplicationFailure) {
      throw new CliError(error.type ?? 'EvidenceStore', error.message, ExitCode.Environment);
    }
    throw error;
  } finally {
    close();
  }
}

function parseSince(value: string): Since {
  if (/^\d+$/.test(value) && Number(value) >= 1) return { sequence: Number(value) };
  const date = parseCalendarDate(value);
  if (date === undefined) {
    throw new CliError(
      'BadSince',
      `--since "${value}" is neither a sequence number (1, 2, …) nor a date (2026-10-01 or an ISO timestamp)`,
      ExitCode.BadInput,
    );
  }
  return { date };
}

function summaryOf(entry: ChainEntry) {
  const manifest = entry.manifest;
  return {
    sequence: entry.sequence,
    ...(entry.through === undefined ? {} : { through: entry.through }),
    state: entry.state,
    key: entry.key,
    ...(entry.sha256 ? { sha256: entry.sha256 } : {}),
    ...(entry.signature ? { signature: entry.signature } : {}),
    ...(manifest
      ? {
          createdAt: manifest.createdAt,
          kind: manifest.run.kind,
          workflowId: manifest.run.workflowId,
          runId: manifest.run.runId,
          outcome: manifest.run.outcome,
          runbookId: manifest.run.runbookId,
          files: manifest.files.length,
          retainUntil: manifest.retention.retainUntil,
        }
      : {}),
  };
}

/** One bundle as `evidence list` shows it; a missing range or an unreadable manifest says so in place of a run. */
function listRow(entry: ChainEntry): string[] {
  const sequence = String(entry.sequence);
  const manifest = entry.manifest;
  if (entry.through !== undefined)
    return [
      sequence,
      'MISSING',
      '',
      '',
      `sequences ${entry.sequence}–${entry.through} (no object from ${entry.key} on)`,
      '',
    ];
  if (!manifest) return [sequence, entry.state.toUpperCase(), '', '', terminalSafe(entry.key), ''];
  // A manifest's fields are printed as they are stored: its signature is judged by `verify`, not here.
  return [
    sequence,
    terminalSafe(String(manifest.createdAt)),
    terminalSafe(String(manifest.run.kind)),
    terminalSafe(String(manifest.run.outcome)),
    terminalSafe(String(manifest.run.workflowId)),
    String(manifest.files.length),
  ];
}

/** Every line terminal-safe: a manifest records ids and outcomes a client chose (a refused start's runbook id). */
function showText(entry: ChainEntry): string {
  const manifest = entry.manifest!;
  const lines = [
    `bundle ${manifest.sequence} of ${manifest.namespace}: ${manifest.run.kind} ${manifest.run.workflowId} (run ${manifest.run.runId})`,
    `  outcome      ${manifest.run.outcome} (Temporal: ${manifest.run.closeStatus}), ${manifest.run.startedAt} → ${manifest.run.closedAt}`,
    `  runbook      ${manifest.run.runbookId} sha256 ${manifest.run.runbookSha256}`,
    `  written      ${manifest.createdAt}; locked ${manifest.retention.mode} until ${manifest.retention.retainUntil}`,
    `  manifest     ${entry.key} sha256 ${entry.sha256}`,
    `  previous     ${manifest.previousManifestSha256 ?? '(first in chain)'}`,
    `  signature    ${entry.signature}`,
  ];
  for (const child of manifest.run.children)
    lines.push(
      child.closeStatus === 'RUNNING'
        ? `  names        ${child.workflowType} ${child.workflowId}, still running when bundled (its history is not in this bundle)`
        : `  includes     ${child.workflowType} ${child.workflowId} (${child.closeStatus})`,
    );
  lines.push('  files');
  for (const file of manifest.files)
    lines.push(`    ${file.sha256}  ${String(file.bytes).padStart(9)}  ${file.path}`);
  return lines.map(terminalSafe).join('\n');
}

/** Runs without a bundle listed one per line; the rest are counted (JSON lists every one). */
const UNBUNDLED_SHOWN = 20;

/** `evidence verify`'s answer for people. */
export function verifyText(report: VerifyReport, since?: Since): string {
  const range = report.first === undefined ? 'empty chain' : `sequences ${report.first}–${report.last}`;
  const lines = [
    `evidence chain ${report.location}/${report.root}: ${range}, ${report.manifests} manifest(s) and ${report.files} file(s) checked`,
    ...closedRunsLines(report.runs),
  ];
  const unbundled = report.runs !== undefined && 'unbundled' in report.runs ? report.runs.unbundled : [];
  const compared = report.runs !== undefined && 'unbundled' in report.runs;
  if (report.problems.length === 0 && unbundled.length === 0) {
    // An empty chain breaks no rule, but it proves nothing either: say so, not "verified".
    lines.push(
      report.manifests === 0
        ? `– nothing to verify: ${since === undefined ? "the chain holds no bundle there (a worker writes one for each failover, failback and drill when it ends; if runs have ended, check the worker's evidence bucket and prefix)" : 'no bundle since then'}`
        : `✔ verified: every file hash, manifest link, signature, sequence and retention holds${compared ? `, and every run compared has its bundle${report.runs !== undefined && 'pending' in report.runs && report.runs.pending.length > 0 ? ' or is still to get it' : ''}` : ''}`,
    );
    return lines.join('\n');
  }
  lines.push(
    `✖ ${report.problems.length + unbundled.length} problem(s):`,
    // Problems quote what the chain and Temporal hold (ids a client chose): shown terminal-safe.
    ...report.problems.map((problem) => `  ✖ [${problem.kind}] ${terminalSafe(problem.message)}`),
    ...unbundled
      .slice(0, UNBUNDLED_SHOWN)
      .map((run) =>
        terminalSafe(
          `  ✖ [unbundled-run] ${run.workflowType} ${run.workflowId} run ${run.runId}, closed ${run.status}${run.outcome ? ` (${run.outcome})` : ''} at ${run.closedAt}, has no bundle: ${run.hint}`,
        ),
      ),
  );
  if (unbundled.length > UNBUNDLED_SHOWN)
    lines.push(
      `  … and ${unbundled.length - UNBUNDLED_SHOWN} more run(s) without a bundle, the newest closed at ${unbundled[unbundled.length - 1]!.closedAt} (--output json lists every one)`,
    );
  if (report.manifests === 0 && unbundled.length > 0)
    lines.push(
      '  the chain holds no bundle at all: the worker writes to another bucket or prefix than this command reads, or its ledger does not run',
    );
  return lines.join('\n');
}

function closedRunsLines(runs: VerifyReport['runs']): string[] {
  if (runs === undefined) return [];
  if ('notCompared' in runs)
    return [
      `⚠ Temporal's closed runs were not compared with the chain: ${runs.notCompared} (--chain-only skips this)`,
    ];
  const pending =
    runs.pending.length === 0
      ? ''
      : `; ${runs.pending.length} still to get theirs (closed moments ago, queued at the ledger, or in a drill still running)`;
  return [
    `${runs.checked} closed failover(s) and drill(s) in Temporal ${runs.from === null ? '' : `since ${runs.from} `}compared with the chain${pending}`,
    ...(runs.ledgerUnread === undefined
      ? []
      : [
          `⚠ the ledger's queue could not be read (${runs.ledgerUnread}): a run it holds counts as missing two minutes after it closed (drctl status drctl-evidence-ledger)`,
        ]),
  ];
}
