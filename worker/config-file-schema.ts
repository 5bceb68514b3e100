import { z } from 'zod';
import type { AwsPacingLimits } from '../activities/aws-pacing/api-limits';
import { unknownFieldMessage, unknownFields } from '../common/unknown-fields';
import { article, describe } from '../runbooks/zod-issue-message';
import type { DrctlConfig, SecretSource } from './config';

/**
 * A setting whose value `loadConfig` checks itself after the merge, because the same check covers the environment
 * and its message names the variable too (`codec.knownKmsKeyArns`, the `aws.pacing` limits). The schema only
 * places it; the type is the setting's.
 */
function checkedAfterMerge<T>(): z.ZodType<T> {
  return z.unknown().optional() as z.ZodType<T>;
}

const secretSource: z.ZodType<SecretSource> = z.union(
  [z.string().min(1), z.object({ secret: z.string().min(1) }).strict()],
  {
    error: (issue) =>
      `must be the value itself (a string) or {"secret": "<name of a Secrets Manager secret>"} (got ${describe(issue.input)})`,
  },
);
const text = z.string();
const name = z.string().min(1);
const list = z.array(z.string());
const positiveWholeNumber = z.number().int().positive();

type Sections = Omit<DrctlConfig, 'source'>;

/**
 * Every section of `DrctlConfig` and every setting in it, each with its type: `satisfies` refuses a schema that
 * misses a setting, names one DrctlConfig lacks, or gives a setting a type that is not its own.
 */
const SECTIONS = {
  temporal: {
    address: name,
    httpAddress: text,
    namespace: name,
    taskQueue: name,
    apiKey: text,
    tls: z.boolean(),
    maxConcurrentActivities: positiveWholeNumber,
    tlsCertPath: text,
    tlsCertData: text,
    tlsKeyPath: text,
    tlsKeyData: text,
    tlsCaPath: text,
    tlsCaData: text,
    tlsServerName: text,
    tlsDisableHostVerification: z.boolean(),
  },
  aws: {
    region: name,
    endpoint: text,
    // The API names and both limits are checked after the merge (checkPacing), which makes it AwsPacingLimits.
    pacing: z.record(
      z.string(),
      z.object({ burst: checkedAfterMerge<number>(), perSecond: checkedAfterMerge<number>() }).strict(),
    ) as unknown as z.ZodType<AwsPacingLimits>,
  },
  unleash: { url: text, adminToken: secretSource, clientToken: secretSource },
  postgres: { connections: z.record(z.string(), secretSource) },
  secrets: { cacheTtlMs: positiveWholeNumber },
  codec: {
    enabled: z.boolean(),
    kmsKeyId: name,
    knownKmsKeyArns: checkedAfterMerge<string[]>(),
    keyringFile: name,
    dataKeyMaxAgeMs: positiveWholeNumber,
    dataKeyMaxUses: positiveWholeNumber,
  },
  codecServer: { listen: name, allowedOrigins: list, token: secretSource },
  operator: { keyFile: name },
  access: { policyFile: name, catalogDirs: list, evacuationDirs: list },
  drill: { injections: z.record(z.string(), z.array(z.string()).min(1)) },
  evidence: {
    bucket: name,
    region: name,
    kmsKeyId: text,
    prefix: text,
    signingKeyFile: name,
    publicKeyFiles: list,
    retentionYears: z.number(),
    taskQueue: name,
  },
} satisfies {
  [S in keyof Sections]: { [K in keyof Required<Sections[S]>]: z.ZodType<Sections[S][K]> };
};

/**
 * Every section and setting optional, none unknown. `source` (a loaded config written back out) is taken and
 * ignored: the path the file was read from is recorded instead.
 */
const CONFIG_FILE = z
  .object({
    source: text.optional(),
    ...Object.fromEntries(
      Object.entries(SECTIONS).map(([section, settings]) => [
        section,
        z
          .object(
            Object.fromEntries(
              Object.entries(settings).map(([key, schema]) => [key, (schema as z.ZodType).optional()]),
            ),
          )
          .strict()
          .optional(),
      ]),
    ),
  })
  .strict();

/**
 * What is wrong with a config file's parsed JSON, one line per problem naming the setting, what it holds and what
 * is allowed (`temporal.address: must be a string (got number 12)`); none when it is a valid config file.
 */
export function configFileProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [
      `must be a JSON object of sections (${Object.keys(SECTIONS).join(', ')}), not ${describe(value)}`,
    ];
  const parsed = CONFIG_FILE.safeParse(value, { error: issueMessage });
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => problem(issue.path, issue));
}

function problem(path: readonly PropertyKey[], issue: z.core.$ZodIssue): string {
  // A secret given as an object with a misspelt field: the object's problem, not "neither a string nor an object".
  if (issue.code === 'invalid_union') {
    const unknown = issue.errors.flat().find((inner) => inner.code === 'unrecognized_keys');
    if (unknown !== undefined) return problem([...path, ...unknown.path], unknown);
  }
  if (issue.code === 'unrecognized_keys') {
    if (path.length === 0)
      return unknownFields(issue.keys, Object.keys(SECTIONS)).replace(/^unknown field/, 'unknown section');
    const what = path.length === 1 ? 'setting' : 'field';
    return `${pathText(path)}: ${issue.message.replace(/^unknown field/, `unknown ${what}`)}`;
  }
  return `${pathText(path)}: ${issue.message}`;
}

/** zod's messages say what failed; these also say what was given and what is allowed. */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const got = `(got ${describe(issue.input)})`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return unknownFieldMessage(issue);
    case 'invalid_type':
      return `must be ${article(issue.expected)} ${got}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array')
        return `must list at least ${String(issue.minimum)} item (the command, then its arguments)`;
      return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${String(issue.minimum)} ${got}`;
    default:
      return undefined;
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
