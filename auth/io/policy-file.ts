import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoadedPolicy } from '../access-policy';
import { parseAccessPolicy } from '../policy-schema';
import { sha256OfBytes } from '../sha256';
import { AuthFileError } from './auth-file-error';

/**
 * Reads and validates the worker's access policy file. The sha256 is over the file's bytes, so the hash in a
 * run's history identifies exactly the file an auditor is given.
 */
export function loadPolicyFile(path: string | undefined): LoadedPolicy {
  if (!path)
    throw new AuthFileError(
      'PolicyInvalid',
      '(none)',
      'no access policy is configured: set access.policyFile in the worker config (or DRCTL_POLICY_FILE); see README "Operators and the access policy"',
    );
  const file = resolve(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new AuthFileError(
      'PolicyInvalid',
      file,
      `access policy ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): check access.policyFile`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new AuthFileError(
      'PolicyInvalid',
      file,
      `access policy ${file} is not valid JSON (${(error as Error).message})`,
    );
  }
  const result = parseAccessPolicy(parsed);
  if (!result.ok)
    throw new AuthFileError(
      'PolicyInvalid',
      file,
      `access policy ${file} is invalid: ${result.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      result.issues,
    );
  return { policy: result.policy, sha256: sha256OfBytes(bytes), source: file };
}
