import { formatPath, type RunbookIssue } from './runbook-validation-error';

/**
 * Runbooks are reviewed, stored in git, printed by `plan` and written into workflow history: a secret in one
 * leaks everywhere. These patterns find what is certainly (or very nearly) a credential; each names what it
 * found, never the value.
 */
const SECRET_PATTERNS: Array<{ what: string; pattern: RegExp }> = [
  { what: 'a URL with a password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i },
  // A value with a digit in it: `password=hunter22`, not prose such as "token: rotate weekly".
  {
    what: 'a password setting',
    pattern: /\b(password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*(?=[^\s&;,'"]*\d)[^\s&;,'"]{6,}/i,
  },
  { what: 'an AWS access key id', pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { what: 'a private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { what: 'a JSON web token', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { what: 'an Unleash API token', pattern: /(^|[\s"'])(\*|[a-z0-9_-]+):(\*|[a-z0-9_-]+)\.[0-9a-f]{16,}\b/i },
  {
    what: 'an access token',
    pattern: /\b(gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,})\b/,
  },
  { what: 'a bearer token', pattern: /\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*/i },
  { what: 'a long hexadecimal secret', pattern: /\b[0-9a-f]{32,}\b/i },
];

const WHAT_TO_DO =
  'a runbook must not hold secrets: name a connection (e.g. "connection": "ehr-primary") and keep the secret in ' +
  "the worker's configuration (DRCTL_PG_<NAME>_URL, postgres.connections, or a secrets manager)";

/** Every string in the runbook input that looks like a credential, with its path. */
export function inlineSecrets(input: unknown): RunbookIssue[] {
  const issues: RunbookIssue[] = [];
  const visit = (value: unknown, path: PropertyKey[]) => {
    if (typeof value === 'string') {
      const found = SECRET_PATTERNS.find(({ pattern }) => pattern.test(value));
      if (found) issues.push({ path: formatPath(path), message: `looks like ${found.what}; ${WHAT_TO_DO}` });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, [...path, index]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
    }
  };
  visit(input, []);
  return issues;
}
