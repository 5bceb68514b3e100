import type { Command } from 'commander';
import type { DrctlConfig } from '../worker/config';
import type { OperatorSigner } from './operator-signer';
import { ExitCode, type ExitCodeValue } from './cli-error';
import { note, parseOutputMode, printJson, type OutputMode } from './output';
import { terminalSafe } from './terminal-safe';

export interface CommandContext {
  output: OutputMode;
  /** Loaded on first use, so `validate` and `--help` work without any configuration. */
  config(): DrctlConfig;
  /** The operator's signer (the key file of --key, DRCTL_KEY_FILE or the config directory), loaded on first use. */
  signer(): OperatorSigner;
}

/**
 * Wraps a command's action: builds its context from the global options, and turns any error into one clear
 * message (text or JSON) and the documented exit code. No stack traces reach the operator.
 */
export function runCommand<A extends unknown[]>(
  action: (context: CommandContext, ...args: A) => Promise<ExitCodeValue | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<{
      output: string;
      config?: string;
      key?: string;
      breakGlass?: boolean;
    }>();
    let output: OutputMode = 'text';
    try {
      output = parseOutputMode(globals.output);
      let config: DrctlConfig | undefined;
      let signer: OperatorSigner | undefined;
      const context: CommandContext = {
        output,
        // Required here, not imported at the top: `--help` and commands that never read the configuration or
        // sign anything start without loading the config schema or the signature library.
        config: () =>
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, loaded on first use.
          (config ??= (require('../worker/config') as typeof import('../worker/config')).loadConfig(
            globals.config === undefined ? {} : { file: globals.config },
          )),
        signer: () =>
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, loaded on first use.
          (signer ??= (require('./operator-signer') as typeof import('./operator-signer')).loadSigner(
            globals.key ?? context.config().operator.keyFile,
            { breakGlass: globals.breakGlass === true },
          )),
      };
      process.exitCode = (await action(context, ...args)) ?? ExitCode.Ok;
    } catch (error) {
      const { toCliError } = await import('./to-cli-error');
      const failure = toCliError(error);
      if (output === 'json') {
        printJson({
          error: {
            code: failure.code,
            message: failure.message,
            ...(failure.details ? { details: failure.details } : {}),
          },
        });
      } else {
        // Messages quote what came from elsewhere (a runbook's field names and ids, a server's words): each line
        // is shown with its control characters escaped.
        note(`drctl: ${failure.message.split('\n').map(terminalSafe).join('\n')}`);
      }
      process.exitCode = failure.exitCode;
      // Temporal out of reach ends the command: nothing is left to do, and a gRPC connect given up (a refused
      // port) keeps its deadline timer after its channel is closed. End once the message is written, not when that
      // timer runs out seconds later.
      if (failure.code === 'TemporalUnreachable') {
        process.stdout.write('', () => process.stderr.write('', () => process.exit(failure.exitCode)));
      }
    }
  };
}
