import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { terminalSafe } from '../terminal-safe';

/** `drctl verify-run`: re-checks every signed operator action of a run against the access policy it recorded. */
export function registerVerifyRun(program: Command): void {
  program
    .command('verify-run')
    .description(
      'Re-verify every signed operator action of a run (start, approvals, decisions, abort) against the access policy file that governed it (matched by sha256).',
    )
    .argument(
      '[run-id]',
      "a failover, drill or evacuation run id (read from Temporal; an evacuation's services' runs too)",
    )
    .option(
      '--run-id <temporal-run-id>',
      'which run of that id: runs of one runbook share its lock id (default: the latest; drctl runs lists them)',
    )
    .option(
      '--file <result.json>',
      'verify a saved result offline instead (drctl status/report --output json)',
    )
    .requiredOption(
      '--policy <file>',
      'required: the access policy file the run recorded (its sha256 must match)',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl verify-run failover-ehr-db --policy /etc/drctl/access-policy.json',
        '  drctl verify-run failover-ehr-db --run-id 01a22f3a-a251-7967-bda9-58db79a8dc27 --policy /etc/drctl/access-policy.json',
        '  drctl verify-run --file evidence/drill-ehr-db-20261127-090000-3fa2c1.json --policy access-policy-2026-11.json',
        '  drctl verify-run evacuation-us-east-1-20261201-104802-6b99ef --policy /etc/drctl/access-policy.json',
        '',
        'Exit codes: 0 every action verified, 1 an action or the policy does not verify, 2 bad input, 3 environment, 4 refused (a drill still running: its record exists once it ends).',
      ].join('\n'),
    )
    .action(
      runCommand(
        async (
          context,
          runId: string | undefined,
          flags: { file?: string; policy: string; runId?: string },
        ) => {
          if ((runId === undefined) === (flags.file === undefined))
            throw new CliError(
              'BadInput',
              runId === undefined
                ? 'give the run to verify: a run id, or --file <result.json> (a saved drctl status --output json)'
                : 'give a run id or --file <result.json>, not both',
              ExitCode.BadInput,
            );
          const { loadPolicyFile } = await import('../../auth/io/policy-file');
          const { fetchRunResult, runsNotCarried, verifyRunResult } = await import('../run-verification');
          const { connectClient } = await import('../temporal-connection');
          const policy = loadPolicyFile(flags.policy);
          let result: unknown;
          let verified: string;
          if (flags.file !== undefined) {
            verified = `the result in ${flags.file}`;
            try {
              result = JSON.parse(readFileSync(flags.file, 'utf8'));
            } catch (error) {
              throw new CliError(
                'BadResultFile',
                `--file ${flags.file} is not a readable JSON result (${(error as Error).message})`,
                ExitCode.BadInput,
              );
            }
          } else {
            const { client, close } = await connectClient(context.config());
            try {
              const fetched = await fetchRunResult(client, runId as string, flags.runId);
              result = fetched.result;
              verified = `${runId as string} run ${fetched.temporalRunId}`;
            } finally {
              await close();
            }
          }
          const verification = verifyRunResult(result, policy);
          const partly = runsNotCarried(result);
          if (context.output === 'json')
            printJson({ verified, ...verification, ...(partly === undefined ? {} : { note: partly }) });
          else {
            const lines = [
              `verifying ${verified}`,
              verification.policy.matchesRecorded
                ? `policy ${policy.source}: sha256 ${policy.sha256} is the one the run recorded`
                : verification.policy.recorded.length === 0
                  ? `policy ${policy.source}: sha256 ${policy.sha256}, but the run records no access policy to compare it with`
                  : `policy ${policy.source}: sha256 ${policy.sha256} is NOT the one the run recorded (${verification.policy.recorded.join(', ')})`,
            ];
            for (const run of verification.runs) {
              lines.push(`${run.runId}:`);
              for (const verdict of run.verdicts)
                lines.push(
                  `  ${verdict.ok ? 'ok  ' : 'FAIL'} #${verdict.index} ${verdict.action}${verdict.stepId ? ` ${verdict.stepId}` : ''} by ${verdict.operator}: ${verdict.detail}`,
                );
            }
            if (partly !== undefined) lines.push(`note: ${partly}`);
            lines.push(
              verification.ok ? 'verified: every operator action is signed as recorded' : 'NOT verified',
            );
            // Operator names, step and run ids and details come from the record: shown terminal-safe.
            process.stdout.write(`${lines.map(terminalSafe).join('\n')}\n`);
          }
          return verification.ok ? ExitCode.Ok : ExitCode.Failed;
        },
      ),
    );
}
