import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { loadOrCreateSettings } from '../sandbox-settings';
import { strictAwsControl, type StrictAwsControl, type StrictAwsSettings } from '../strict-aws-client';
import { strictAwsControlUrl } from '../strict-aws-process';
import { OUTAGE_MODES, type RateLimit } from '../strict-aws/strict-settings';
import { outputOption, type OutputFormat } from './output-format';

async function control(): Promise<StrictAwsControl> {
  return strictAwsControl(strictAwsControlUrl(await loadOrCreateSettings()));
}

function describeSettings(s: StrictAwsSettings): string {
  const rules = Object.entries(s.rules)
    .map(([name, on]) => `${name} ${on ? 'on' : 'off'}`)
    .join(', ');
  const throttling = s.throttling.enabled
    ? `on (Route 53 ${s.throttling.route53.burst} burst, ${s.throttling.route53.perSecond}/s; RDS ${s.throttling.rds.burst} burst, ${s.throttling.rds.perSecond}/s)`
    : 'off';
  return [
    `rules          ${rules}`,
    `propagation    Route 53 changes PENDING for ${s.route53PropagationMs} ms`,
    `failovers      FailoverDBCluster ${s.clusterFailoverMs} ms, global phases ${s.globalClusterPhaseMs} ms each`,
    `rds instances  a reboot ${s.rdsRebootMs} ms, a modification applied now ${s.rdsModifyMs} ms`,
    `throttling     ${throttling}`,
    `regions down   ${s.outage.regionsDown.join(', ') || 'none'} (mode ${s.outage.mode})`,
    `route 53 API   ${s.outage.route53ControlPlaneDown ? 'DOWN' : 'up'}`,
  ].join('\n');
}

function print(format: OutputFormat, value: unknown, text: string): void {
  process.stdout.write(format === 'json' ? JSON.stringify(value, null, 2) + '\n' : `${text}\n`);
}

/** `1000/10` → a rate limit; anything else names the option and the form it wants. */
function rateLimit(option: string): (value: string) => RateLimit {
  return (value) => {
    const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(value);
    if (!match) {
      throw new InvalidArgumentError(`${option} must be <burst>/<per second>, e.g. 50/10; got "${value}"`);
    }
    return { burst: Number(match[1]), perSecond: Number(match[2]) };
  };
}

/** `sandbox aws …`: drive the strict AWS layer in front of moto (outages, throttling, rules, lag metrics). */
export function awsCommand(): Command {
  const aws = new Command('aws')
    .description(
      'drive the strict AWS layer in front of moto: region outages, throttling, rules, lag metrics',
    )
    .addHelpText(
      'after',
      `
Examples:
  npm run sandbox -- aws status
  npm run sandbox -- aws region-down us-east-1 --mode hang
  npm run sandbox -- aws route53 down
  npm run sandbox -- aws throttling on --route53 5/5
  npm run sandbox -- aws rule rdsStopWithReadReplicas on
  npm run sandbox -- aws lag ReplicaLag patient-portal-replica us-west-2 120
  npm run sandbox -- aws reset`,
    );

  aws
    .command('status')
    .description('the layer’s settings and call totals')
    .addOption(outputOption())
    .action(async (options: { output: OutputFormat }) => {
      const c = await control();
      const [settings, stats] = await Promise.all([c.settings(), c.stats()]);
      print(
        options.output,
        { settings, totals: stats.totals, effects: stats.effects },
        `${describeSettings(settings)}\ncalls          ${JSON.stringify(stats.totals)}`,
      );
    });

  aws
    .command('region-down')
    .description('every call signed for this region fails (RDS, S3, CloudWatch of the region)')
    .argument('<region>', 'e.g. us-east-1')
    .addOption(new Option('--mode <mode>', 'how it fails').choices([...OUTAGE_MODES]))
    .addOption(outputOption())
    .action(
      async (region: string, options: { mode?: (typeof OUTAGE_MODES)[number]; output: OutputFormat }) => {
        const settings = await (await control()).regionDown(region, options.mode);
        print(options.output, settings, describeSettings(settings));
      },
    );

  aws
    .command('region-up')
    .description('the region answers again')
    .argument('<region>', 'e.g. us-east-1')
    .addOption(outputOption())
    .action(async (region: string, options: { output: OutputFormat }) => {
      const settings = await (await control()).regionUp(region);
      print(options.output, settings, describeSettings(settings));
    });

  aws
    .command('route53')
    .description('the Route 53 control plane (every zone and record API) down or up, apart from us-east-1')
    .addArgument(new Argument('<state>').choices(['down', 'up']))
    .addOption(outputOption())
    .action(async (state: 'down' | 'up', options: { output: OutputFormat }) => {
      const settings = await (await control()).route53ControlPlane(state);
      print(options.output, settings, describeSettings(settings));
    });

  aws
    .command('throttling')
    .description('AWS token-bucket throttling on or off, optionally with other rates')
    .addArgument(new Argument('<state>').choices(['on', 'off']))
    .option(
      '--route53 <burst/perSecond>',
      'Route 53 account bucket (AWS: 50/10; older accounts 5/5)',
      rateLimit('--route53'),
    )
    .option('--rds <burst/perSecond>', 'RDS bucket per region (AWS: 300/12)', rateLimit('--rds'))
    .addOption(outputOption())
    .action(
      async (
        state: 'on' | 'off',
        options: { route53?: RateLimit; rds?: RateLimit; output: OutputFormat },
      ) => {
        const settings = await (
          await control()
        ).throttling({ enabled: state === 'on', route53: options.route53, rds: options.rds });
        print(options.output, settings, describeSettings(settings));
      },
    );

  aws
    .command('propagation')
    .description('how long Route 53 changes stay PENDING')
    .argument('<milliseconds>', 'e.g. 300; 0 answers INSYNC at once')
    .addOption(outputOption())
    .action(async (milliseconds: string, options: { output: OutputFormat }) => {
      const settings = await (await control()).propagation(Number(milliseconds));
      print(options.output, settings, describeSettings(settings));
    });

  aws
    .command('rule')
    .description('turn one AWS refusal on or off')
    .addArgument(
      new Argument('<name>').choices([
        'rdsStopWithReadReplicas',
        'rdsPromoteNonReplica',
        'route53PriorRequestNotComplete',
        'route53BatchLimits',
        'route53ChangePreconditions',
        'rdsTagConstraints',
        's3KmsKeyExists',
      ]),
    )
    .addArgument(new Argument('<state>').choices(['on', 'off']))
    .addOption(outputOption())
    .action(
      async (
        name: keyof StrictAwsSettings['rules'],
        state: 'on' | 'off',
        options: { output: OutputFormat },
      ) => {
        const settings = await (await control()).rules({ [name]: state === 'on' });
        print(options.output, settings, describeSettings(settings));
      },
    );

  aws
    .command('lag')
    .description(
      'set a lag metric the sandbox publishes (seconds for ReplicaLag, ms for Aurora), or none to stop it',
    )
    .addArgument(new Argument('<metric>').choices(['ReplicaLag', 'AuroraReplicaLag', 'AuroraGlobalDBRPOLag']))
    .argument('<resource>', 'DBInstanceIdentifier (ReplicaLag) or DBClusterIdentifier')
    .argument('<region>', 'where the metric is published, e.g. us-west-2')
    .argument('<value>', 'a number, or none for no datapoints')
    .addOption(outputOption())
    .action(
      async (
        metricName: 'ReplicaLag' | 'AuroraReplicaLag' | 'AuroraGlobalDBRPOLag',
        resourceId: string,
        region: string,
        value: string,
        options: { output: OutputFormat },
      ) => {
        const c = await control();
        const series = { metricName, resourceId, region };
        const lag = value === 'none' ? await c.stopLag(series) : await c.setLag(series, Number(value));
        print(
          options.output,
          lag,
          lag
            .map((s) => `${s.region} ${s.metricName} ${s.resourceId}: ${s.value ?? 'none'} ${s.unit}`)
            .join('\n'),
        );
      },
    );

  aws
    .command('stats')
    .description('calls per operation: forwarded, succeeded, refused (by code), throttled, unavailable')
    .addOption(outputOption())
    .action(async (options: { output: OutputFormat }) => {
      const stats = await (await control()).stats();
      const lines = Object.entries(stats.operations).map(
        ([name, s]) =>
          `${name.padEnd(28)} calls ${s.calls}, ok ${s.succeeded}, refused ${JSON.stringify(s.refused)}, throttled ${s.throttled}, unavailable ${s.unavailable}`,
      );
      print(options.output, stats, lines.join('\n') || 'no calls yet');
    });

  aws
    .command('reset')
    .description('strict defaults again: every region up, throttling off, counters zeroed, seeded lag values')
    .addOption(outputOption())
    .action(async (options: { output: OutputFormat }) => {
      const settings = await (await control()).reset();
      print(options.output, settings, describeSettings(settings));
    });

  return aws;
}
