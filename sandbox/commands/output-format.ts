import { Option } from 'commander';

export type OutputFormat = 'text' | 'json';

export const outputOption = (): Option =>
  new Option('-o, --output <format>', 'text for people, json for scripts')
    .choices(['text', 'json'])
    .default('text');

/** Progress goes to stderr, so `--output json` keeps stdout parseable. */
export const progressLine = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
