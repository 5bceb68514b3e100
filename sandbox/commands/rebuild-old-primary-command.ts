import { Command } from 'commander';
import { rebuildPrimaryAsReplica } from '../stack';
import { progressLine } from './output-format';

/** `sandbox rebuild-old-primary`: after a failover, makes the old primary a streaming standby of the new one. */
export function rebuildOldPrimaryCommand(): Command {
  return new Command('rebuild-old-primary')
    .description(
      'after a failover (127.0.0.3 promoted), rebuild the old primary on 127.0.0.2 as a streaming standby of 127.0.0.3 (pg_basebackup -R), ready for a failback; `reset --only postgres` restores the seeded pair',
    )
    .addHelpText(
      'after',
      `
Examples:
  npm run sandbox -- rebuild-old-primary
  npx tsx sandbox/cli.ts rebuild-old-primary`,
    )
    .action(async () => {
      const started = Date.now();
      await rebuildPrimaryAsReplica({ log: progressLine });
      process.stdout.write(
        `old primary rebuilt: 127.0.0.2 streams from 127.0.0.3 (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
      );
    });
}
