import type { Permission } from './permissions';

/**
 * The worker's access policy: who the operators are (by public key), their groups, what each may do to which
 * runbooks, and the break-glass keys for when the usual approvers cannot be reached. Plain JSON, owned by
 * the worker; a client never supplies it. See auth/io/policy-file.ts for the file and its validation.
 */
export interface AccessPolicy {
  version: 1;
  operators: Record<string, { keys: string[]; description?: string }>;
  groups: Record<string, string[]>;
  permissions: PermissionRule[];
  breakGlass: Record<string, BreakGlassKey>;
}

/** Grants `allow` on the runbooks matching any of `runbooks` to the named operators and group members. */
export interface PermissionRule {
  runbooks: string[];
  operators: string[];
  groups: string[];
  allow: Permission[];
}

/**
 * An emergency key, kept offline (a safe, a sealed envelope). A statement signed with it must say so
 * (`breakGlass: true`); it may do what `allow` lists on the runbooks matching `runbooks` and satisfies any
 * approval gate on its own. Every use is recorded and reported as a break-glass use.
 */
export interface BreakGlassKey {
  key: string;
  /** Who holds it, for the audit trail. */
  holder: string;
  runbooks: string[];
  allow: Permission[];
}

/** A policy as one run used it: the content and the sha256 of the file's bytes, recorded in history. */
export interface LoadedPolicy {
  policy: AccessPolicy;
  sha256: string;
  /** Where the worker read it (for messages). */
  source: string;
}
