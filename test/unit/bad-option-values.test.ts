import { runDrctl } from './run-drctl';

/**
 * Option values the CLI must refuse before it contacts anything (exit 2, the option named, what is allowed), and
 * usage errors asked for as JSON. Found by a QA pass; each case says what happened before.
 */

/** Where nothing listens: a command that reached for Temporal would exit 3, not 2. */
const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:9' };
const drctl = (args: string[]) => runDrctl(args, NO_TEMPORAL);

interface RefusedCase {
  name: string;
  args: string[];
  says: RegExp;
}

const refused: RefusedCase[] = [
  {
    name: 'a failover with a blank --force (before: taken as no --force, it went on to plan and start)',
    args: ['failover', 'ehr-db', '--reason', 'INC-1', '--force', '   ', '--yes'],
    says: /--force needs a reason: say why you go on past a plan that is not ready/,
  },
  {
    name: 'an evacuation with a blank --force (before: taken as no --force)',
    args: ['evacuate', 'us-east-1', '--reason', 'INC-1', '--force', ' ', '--yes'],
    says: /--force needs a reason/,
  },
  {
    name: 'runs --since too far back to be a date (before: "Invalid time value", exit 1)',
    args: ['runs', '--since', '999999999999d'],
    says: /--since "999999999999d" reaches back before 1970-01-01/,
  },
  {
    name: 'runs --since before 1970 (before: sent to Temporal, which refused the query)',
    args: ['runs', '--since', '800000d'],
    says: /--since "800000d" reaches back before 1970-01-01/,
  },
  {
    name: 'drill run with a zero --canary-interval (before: taken; the worker made it 100ms)',
    args: ['drill', 'run', 'ehr-db', '--reason', 'drill', '--canary-interval', '0s'],
    says: /--canary-interval must be between 10ms and 10s \(the canary's writes are the RPO's resolution\), not "0s"/,
  },
  {
    name: 'drill run with a 5ms --canary-interval (before: taken, a write to the primary every 5 ms)',
    args: ['drill', 'run', 'ehr-db', '--reason', 'drill', '--canary-interval', '5ms'],
    says: /--canary-interval must be between 10ms and 10s/,
  },
  {
    name: 'drill run with a --warmup of years (before: taken; the drill would hold its runbook for them)',
    args: ['drill', 'run', 'ehr-db', '--reason', 'drill', '--warmup', '9999d'],
    says: /--warmup must be between 0ms and 5m \(the canary writes for at most 10 minutes in all\), not "9999d"/,
  },
  {
    name: 'drill schedule with a bad --canary-interval (it stores what each drill will run with)',
    args: ['drill', 'schedule', 'ehr-db', '--quarterly', '--reason', 'x', '--canary-interval', '1h'],
    says: /--canary-interval must be between 10ms and 10s/,
  },
];

describe('option values refused before anything is contacted', () => {
  test.concurrent.each(refused)(
    '$name',
    async ({ args, says }) => {
      const result = await drctl(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(says);
    },
    60_000,
  );

  test.concurrent(
    'report with --output json and another --format is refused as two formats (before: Markdown was printed, exit 0)',
    async () => {
      const result = await drctl([
        'report',
        'drill-ehr-db-20261127-090000-3fa2c1',
        '--format',
        'md',
        '--output',
        'json',
      ]);
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toEqual({
        error: {
          code: 'ConflictingOptions',
          message: expect.stringMatching(/--output json and --format md ask for two formats/),
        },
      });
    },
    60_000,
  );

  test.concurrent(
    'a drill interval at the bounds passes the check (it then needs an operator key and Temporal)',
    async () => {
      const result = await drctl([
        'drill',
        'run',
        'ehr-db',
        '--reason',
        'd',
        '--canary-interval',
        '10ms',
        '--warmup',
        '5m',
      ]);
      expect(result.stderr).not.toMatch(/must be between/);
      expect(result.code).not.toBe(0);
    },
    60_000,
  );
});

describe('usage errors asked for as JSON', () => {
  test.concurrent.each([
    [['validate', '-o', 'json'], /missing required argument 'runbook'/],
    [['validate', 'x', '--bogus', '--output', 'json'], /unknown option '--bogus'/],
    [
      ['runs', '--status', 'bogus', '--output=json'],
      /argument 'bogus' is invalid\. Allowed choices are running/,
    ],
    [['nosuchcmd', '-ojson'], /unknown command 'nosuchcmd'/],
  ])(
    "drctl %j is one JSON error on stdout, nothing on stderr, exit 2 (before: commander's text and help on stderr, stdout empty)",
    async (args, says) => {
      const result = await drctl(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('');
      const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string } };
      expect(error.code).toBe('BadUsage');
      expect(error.message).toMatch(says);
    },
    60_000,
  );

  test.concurrent(
    'without JSON a usage error is still text and help on stderr',
    async () => {
      const result = await drctl(['validate', 'x', '--bogus']);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/error: unknown option '--bogus'[\s\S]*Usage: drctl validate/);
    },
    60_000,
  );
});

test.concurrent(
  "plan --help states every exit code it uses (before: only 'Exit code 1 when pre-flight would fail')",
  async () => {
    const result = await drctl(['plan', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Exit codes: 0 ready, 1 not ready .*, 2 bad input .*, 3 environment .*, 4 refused/,
    );
  },
  60_000,
);
