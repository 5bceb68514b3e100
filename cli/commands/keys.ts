import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli-error';
import { addGroupExamples } from '../group-examples';
import { printJson } from '../output';
import { runCommand } from '../run-command';

/** `drctl keys init|show`: the operator's Ed25519 signing key. The private key is never printed. */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description("The operator's signing key: every operator action is signed with it.");

  keys
    .command('init')
    .description('Create your Ed25519 key pair; prints the public key and a ready-to-paste policy snippet.')
    .option('--name <operator>', 'your operator name in the access policy (default: your OS user)')
    .option(
      '--file <path>',
      'where to keep the private key (default: $DRCTL_KEY_FILE or the config directory)',
    )
    .option('--force', 'replace an existing key (its public key stops working once removed from the policy)')
    .action(
      runCommand(async (context, flags: { name?: string; file?: string; force?: boolean }) => {
        const name = (flags.name ?? process.env.USER ?? process.env.LOGNAME ?? '').toLowerCase();
        const { OPERATOR_NAME } = await import('../../auth/policy-schema');
        if (!OPERATOR_NAME.test(name))
          throw new CliError(
            'BadName',
            `--name must be an operator name of lower case letters, digits and . _ @ - (e.g. alice), not "${name}"`,
            ExitCode.BadInput,
          );
        const file = flags.file ?? context.config().operator.keyFile;
        const { createKeyFile } = await import('../../auth/io/key-file');
        const key = createKeyFile(file, name, { force: flags.force === true });
        print(context.output, key, 'created');
      }),
    );

  keys
    .command('show')
    .description('Print the public key of your key file and its policy snippet (never the private key).')
    .option('--file <path>', 'the key file (default: $DRCTL_KEY_FILE or the config directory)')
    .action(
      runCommand(async (context, flags: { file?: string }) => {
        const { readKeyFile } = await import('../../auth/io/key-file');
        print(context.output, readKeyFile(flags.file ?? context.config().operator.keyFile), 'found');
      }),
    );

  addGroupExamples(
    keys,
    [
      'drctl keys init --name alice       # new key in ~/.config/drctl/operator-key.json (0600)',
      'drctl keys show                    # the public key and the policy snippet again',
    ],
    [
      "Who you are is the key's owner in the worker's access policy: send the printed snippet to whoever",
      'keeps the policy. DRCTL_KEY_FILE (or operator.keyFile in the config) selects another key file.',
    ],
  );
}

function print(
  output: 'text' | 'json',
  key: { name: string; publicKey: string; file: string },
  verb: 'created' | 'found',
): void {
  const snippet = { [key.name]: { keys: [key.publicKey] } };
  if (output === 'json') {
    printJson({
      name: key.name,
      file: key.file,
      publicKey: key.publicKey,
      policySnippet: { operators: snippet },
    });
    return;
  }
  process.stdout.write(
    [
      `${verb} the Ed25519 key of ${key.name} in ${key.file} (0600: keep it private, never share it)`,
      `public key: ${key.publicKey}`,
      '',
      'Add to the "operators" of the worker\'s access policy, then grant permissions to a group:',
      `  ${JSON.stringify(snippet).slice(1, -1)}`,
      '',
    ].join('\n'),
  );
}
