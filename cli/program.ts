import { Command, Option } from 'commander';
import { registerCodecServer } from './commands/codec-server';
import { registerDecide } from './commands/decide';
import { registerOperatorActions } from './commands/operator-actions';
import { registerDrill } from './commands/drill';
import { registerEvacuate } from './commands/evacuate';
import { registerEvidence } from './commands/evidence';
import { registerFailback } from './commands/failback';
import { registerFailover } from './commands/failover';
import { registerIamPolicy } from './commands/iam-policy';
import { registerPlan } from './commands/plan';
import { registerReport } from './commands/report';
import { registerRunbooks } from './commands/runbooks';
import { registerRuns } from './commands/runs';
import { registerStatus } from './commands/status';
import { registerValidate } from './commands/validate';
import { registerWorker } from './commands/worker';
import { registerKeys } from './commands/keys';
import { registerVerifyRun } from './commands/verify-run';
import { addExitCodes } from './exit-codes-help';
import { printJson } from './output';

/** Whether the command line asks for JSON (`-o json`, `--output json`, `--output=json`, `-ojson`) before any `--`. */
export function asksForJson(args: readonly string[]): boolean {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === '--') return false;
    if (arg === '--output=json' || arg === '-ojson') return true;
    if ((arg === '-o' || arg === '--output') && args[index + 1] === 'json') return true;
  }
  return false;
}

export function buildProgram(): Command {
  const program = new Command('drctl')
    .description('Disaster-recovery failover runbooks as code, run as durable Temporal workflows.')
    .addOption(
      new Option('-o, --output <format>', 'text for people, json for scripts')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('-c, --config <file>', 'config file (default: $DRCTL_CONFIG, else ./drctl.config.json)')
    .option(
      '--key <file>',
      'your signing key (default: $DRCTL_KEY_FILE, else ~/.config/drctl/operator-key.json)',
    )
    .option(
      '--break-glass',
      "EMERGENCY ONLY: sign with the policy's break-glass key (--key) when the usual approvers cannot be reached; every use is recorded and reported",
    )
    .showHelpAfterError()
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl runbooks',
        '  drctl plan ehr-db',
        '  drctl failover ehr-db --reason "INC-4411 us-east-1 outage" --follow',
        '  drctl runs --runbook ehr-db',
        '  drctl status failover-ehr-db',
        '  drctl drill run ehr-db --reason "Q4 drill" --follow',
        '  drctl evacuate us-east-1 --reason "INC-4411 us-east-1 outage" --follow',
        '',
        'Exit codes: 0 ok, 1 the run (or check) failed, 2 bad input, 3 environment (Temporal, AWS, config),',
        "4 refused (busy, not permitted, not ready, not confirmed). Each command's --help says which apply.",
        '',
        "Every operator action is signed with your key (drctl keys init); the worker's access policy says who may do what.",
        'Configuration: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, DRCTL_TASK_QUEUE, AWS_REGION,',
        'AWS_ENDPOINT_URL, UNLEASH_URL, UNLEASH_ADMIN_TOKEN, UNLEASH_CLIENT_TOKEN, DRCTL_PG_<NAME>_URL,',
        "DRCTL_RUNBOOKS_DIR, DRCTL_EVACUATIONS_DIR (and the worker's DRCTL_CATALOG_DIRS), or a JSON config file.",
      ].join('\n'),
    );
  // commander's own usage errors (unknown option, missing argument, a bad choice) are bad input: exit 2. Asked for
  // JSON, they are one JSON error on stdout like every other error, not commander's text and help on stderr.
  const json = asksForJson(process.argv.slice(2));
  let usageError: string | undefined;
  program.configureOutput({
    writeErr: (text) => {
      if (!json) process.stderr.write(text);
    },
    outputError: (text, write) => {
      usageError = text;
      write(text);
    },
  });
  program.exitOverride((error) => {
    if (error.exitCode === 0) process.exit(0);
    if (json)
      printJson({
        error: {
          code: 'BadUsage',
          message: (usageError ?? 'unknown command: drctl --help lists the commands')
            .replace(/^error: /, '')
            .trim(),
        },
      });
    process.exit(2);
  });
  registerFailover(program);
  registerFailback(program);
  registerEvacuate(program);
  registerPlan(program);
  registerStatus(program);
  registerRuns(program);
  registerOperatorActions(program);
  registerDecide(program);
  registerDrill(program);
  registerReport(program);
  registerEvidence(program);
  registerValidate(program);
  registerRunbooks(program);
  registerWorker(program);
  registerKeys(program);
  registerVerifyRun(program);
  registerCodecServer(program);
  registerIamPolicy(program);
  addExitCodes(program);
  return program;
}
