import type { Command } from 'commander';
import { loadConfig, type DrctlConfig } from '../worker/config';
import { loadSigner, type OperatorSigner } from './operator-signer';
import { ExitCode, type ExitCodeValue } from './cli-error';
import { note, parseOutputMode, printJson, type OutputMode } from './output';

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
        config: () => (config ??= loadConfig(globals.config === undefined ? {} : { file: globals.config })),
        signer: () =>
          (signer ??= loadSigner(globals.key ?? context.config().operator.keyFile, {
            breakGlass: globals.breakGlass === true,
          })),
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
        note(`drctl: ${failure.message}`);
      }
      process.exitCode = failure.exitCode;
    }
  };
}
