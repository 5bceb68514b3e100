import type { Command } from 'commander';
import { buildProgram } from '../../cli/program';

/** Every command that runs something (not a group, not commander's own `help`), with its full name. */
function leafCommands(command: Command, path: string[] = []): Array<{ name: string; command: Command }> {
  return command.commands.flatMap((sub) => {
    const name = [...path, sub.name()];
    if (sub.name() === 'help') return [];
    return sub.commands.length > 0 ? leafCommands(sub, name) : [{ name: name.join(' '), command: sub }];
  });
}

/** What `drctl <command> --help` prints, text added after the usage included. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

test('GIVEN any drctl command WHEN --help THEN it shows an example of that command', () => {
  const leaves = leafCommands(buildProgram());
  expect(leaves.length).toBeGreaterThan(25);
  const withoutExample = leaves
    .filter(({ name, command }) => {
      const help = helpOf(command);
      const examples = help.slice(help.indexOf('Examples:'));
      return !help.includes('Examples:') || !examples.includes(`drctl ${name}`);
    })
    .map(({ name }) => name);
  expect(withoutExample).toEqual([]);
});

test('GIVEN any drctl command WHEN --help THEN it states its exit codes, as the top-level help promises', () => {
  const silent = leafCommands(buildProgram())
    .filter(({ command }) => !/Exit codes?[: ]/.test(helpOf(command)))
    .map(({ name }) => name);
  expect(silent).toEqual([]);
});
