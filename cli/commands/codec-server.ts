import type { Command } from 'commander';
import { note, printJson } from '../output';
import { runCommand } from '../run-command';

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(
      'Serve the payload codec to the Temporal Web UI and CLI (POST /decode, /encode): every request needs the codec server token; browsers only from the allowed origins.',
    )
    .option('--listen <host:port>', 'where to listen (default: codecServer.listen, else 127.0.0.1:8088)')
    .option(
      '--allowed-origin <origin...>',
      'browser origin(s) allowed to call, e.g. http://127.0.0.1:8233 (default: codecServer.allowedOrigins)',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  DRCTL_CODEC_SERVER_TOKEN_SECRET=drctl/codec-server-token drctl codec-server --allowed-origin https://temporal-ui.example.org',
        '  temporal workflow show -w failover-ehr-db-20261127-081530 --codec-endpoint http://127.0.0.1:8088 --codec-auth "Bearer $TOKEN"',
        '',
        'Needs the same codec settings as the worker (DRCTL_CODEC=on and DRCTL_CODEC_KMS_KEY_ID or DRCTL_CODEC_KEYRING_FILE).',
        'In a browser, open the server URL once and enter the token as the password; then turn on',
        '"Include cross-origin credentials" in the Web UI\'s codec settings. Stops on SIGINT/SIGTERM.',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, flags: { listen?: string; allowedOrigin?: string[] }) => {
        const loaded = context.config();
        const config = {
          ...loaded,
          codecServer: {
            ...loaded.codecServer,
            ...(flags.listen === undefined ? {} : { listen: flags.listen }),
            ...(flags.allowedOrigin === undefined ? {} : { allowedOrigins: flags.allowedOrigin }),
          },
        };
        // Loaded on demand: the codec server pulls in the Secrets Manager SDK, which other commands do not need.
        const { startCodecServer } = await import('../../security/codec-server/start-codec-server');
        const server = await startCodecServer(config, (line) => note(`codec-server: ${line}`));
        if (context.output === 'json')
          printJson({ url: server.url, allowedOrigins: config.codecServer.allowedOrigins });
        note(
          `drctl codec-server listening on ${server.url} (origins: ${config.codecServer.allowedOrigins.join(', ') || 'none'})`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      }),
    );
}
