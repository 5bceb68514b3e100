import type { Command } from 'commander';

/**
 * A command group's examples (`drctl drill …`), shown after the group's help, and after each subcommand's help
 * those that run it: `drctl drill run --help` shows the `drctl drill run …` lines. Call it once the group's
 * subcommands are registered. `footer` follows the group's examples only.
 */
export function addGroupExamples(
  group: Command,
  examples: readonly string[],
  footer: readonly string[] = [],
): void {
  const block = (lines: readonly string[]) => ['', 'Examples:', ...lines.map((line) => `  ${line}`)];
  group.addHelpText('after', [...block(examples), ...(footer.length > 0 ? ['', ...footer] : [])].join('\n'));
  for (const sub of group.commands) {
    const invocation = `drctl ${group.name()} ${sub.name()}`;
    const own = examples.filter((line) => line === invocation || line.startsWith(`${invocation} `));
    if (own.length > 0) sub.addHelpText('after', block(own).join('\n'));
  }
}
