/** How a command prints: for people (text) or for scripts (one JSON document on stdout). */
export type OutputMode = 'text' | 'json';

export function parseOutputMode(value: string): OutputMode {
  if (value === 'text' || value === 'json') return value;
  throw new Error(`--output must be text or json, not "${value}"`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress and prompts go to stderr so stdout stays the command's result. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}
