import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/program';

/**
 * Every message that tells the operator to run `drctl <command>` names a command that exists (an error once
 * told people to run `drctl runs` before there was one). Scans the string literals of the product code and
 * the README; words after "drctl" that are plain English ("drctl knows", "a drctl run") are listed below.
 */
const ROOT = join(__dirname, '../..');
const SOURCE_DIRS = [
  'cli',
  'workflows',
  'activities',
  'kinds',
  'providers',
  'runbooks',
  'worker',
  'reports',
  'common',
];

/** "drctl" followed by an ordinary word in a sentence, not a command. */
const PROSE = new Set([
  'knows',
  'uses',
  'started',
  'starts',
  'registers',
  'reads',
  'fails',
  'yet',
  'shows',
  'sets',
  'puts',
  'promises',
  'or',
  'makes',
  'has',
  'did',
  'cannot',
  'can',
  'against',
  'accepts',
  'run',
  'runs',
  'drills',
  'switchdns',
  'probe',
  'worker',
  'config',
  'is',
  'was',
  'will',
  'does',
  'needs',
  'waits',
  'tags',
  'sees',
  'keeps',
  'always',
  'sends',
  'proves',
  'writes',
]);

function commandTree(program: Command): Map<string, Set<string>> {
  const tree = new Map<string, Set<string>>();
  for (const command of program.commands) {
    tree.set(command.name(), new Set(command.commands.map((sub) => sub.name())));
  }
  return tree;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : filesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The text of every string literal and template literal (roughly; good enough to find messages). */
function stringLiterals(source: string): string[] {
  return [...source.matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g)].map((m) => m[0]);
}

test('every `drctl <command>` a message or the README names exists', () => {
  const tree = commandTree(buildProgram());
  const texts: Array<{ where: string; text: string }> = [];
  for (const dir of SOURCE_DIRS) {
    for (const file of filesUnder(join(ROOT, dir))) {
      for (const text of stringLiterals(readFileSync(file, 'utf8')))
        texts.push({ where: relative(ROOT, file), text });
    }
  }
  texts.push({ where: 'README.md', text: readFileSync(join(ROOT, 'README.md'), 'utf8') });

  const wrong: string[] = [];
  let commandsSeen = 0;
  for (const { where, text } of texts) {
    for (const [, word, next] of text.matchAll(
      /(?<![\w-])drctl ([a-z][a-z-]*)(?![\w])(?: ([a-z][a-z-]*)(?![\w]))?/g,
    )) {
      const name = word as string;
      if (tree.has(name)) {
        commandsSeen++;
        const subcommands = tree.get(name)!;
        if (subcommands.size > 0 && next !== undefined && !subcommands.has(next) && !PROSE.has(next)) {
          wrong.push(
            `${where}: "drctl ${name} ${next}" (subcommands of ${name}: ${[...subcommands].join(', ')})`,
          );
        }
      } else if (!PROSE.has(name.toLowerCase())) {
        wrong.push(`${where}: "drctl ${name}"`);
      }
    }
  }
  expect(wrong).toEqual([]);
  expect(commandsSeen).toBeGreaterThan(20);
});
