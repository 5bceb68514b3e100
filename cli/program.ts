import { Command, Option } from 'commander';
import { registerDecide } from './commands/decide';
import { registerOperatorActions } from './commands/operator-actions';
import { registerDrill } from './commands/drill';
import { registerEvacuate } from './commands/evacuate';
import { registerFailback } from './commands/failback';
import { registerFailover } from './commands/failover';
import { registerPlan } from './commands/plan';
import { registerReport } from './commands/report';
import { registerRunbooks } from './commands/runbooks';
import { registerRuns } from './commands/runs';
import { registerStatus } from './commands/status';
import { registerValidate } from './commands/validate';
import { registerWorker } from './commands/worker';

export function buildProgram(): Command {
  const program = new Command('drctl')
    .description('Disaster-recovery failover runbooks as code, run as durable Temporal workflows.')
    .addOption(
      new Option('-o, --output <format>', 'text for people, json for scripts')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('-c, --config <file>', 'config file (default: $DRCTL_CONFIG, else ./drctl.config.json)')
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
        '  drctl status failover-ehr-db-20261127-081530',
        '  drctl drill run ehr-db --reason "Q4 drill" --follow',
        '',
        'Configuration: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, AWS_REGION, AWS_ENDPOINT_URL,',
        'UNLEASH_URL, UNLEASH_ADMIN_TOKEN, UNLEASH_CLIENT_TOKEN, DRCTL_PG_<NAME>_URL, or a JSON config file.',
      ].join('\n'),
    );
  program.exitOverride((error) => {
    // commander's own usage errors (unknown option, missing argument) are bad input: exit 2.
    process.exit(error.exitCode === 0 ? 0 : 2);
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
  registerValidate(program);
  registerRunbooks(program);
  registerWorker(program);
  return program;
}
