import { z } from 'zod';
import type { AccessPolicy } from './access-policy';
import { isPermission, PERMISSIONS } from './permissions';
import { isPublicKey } from './signature';

/** Operator, group and key names: plain enough to sit in a search attribute (the initiator) unencrypted. */
import { OPERATOR_NAME } from './operator-name';
import { unknownFieldMessage } from '../common/unknown-fields';

export { OPERATOR_NAME };
const name = (what: string) =>
  z.string().regex(OPERATOR_NAME, `${what} names use lower case letters, digits and . _ @ - (e.g. "alice")`);

const permission = z.string().superRefine((value, ctx) => {
  if (!isPermission(value))
    ctx.addIssue({
      code: 'custom',
      message: `unknown permission "${value}"; allowed: ${PERMISSIONS.join(', ')}`,
    });
});

const publicKey = z.string().superRefine((value, ctx) => {
  if (!isPublicKey(value))
    ctx.addIssue({
      code: 'custom',
      message: `malformed public key "${value.length > 40 ? `${value.slice(0, 40)}…` : value}": expected ed25519: and 64 hex digits of a valid Ed25519 point, as \`drctl keys init\` prints`,
    });
});

const runbookPatterns = z
  .array(z.string().regex(/^[a-z0-9*][a-z0-9*-]*$/, 'a runbook id or a glob with * (e.g. "ehr-*", "*")'))
  .min(1);

/** The access policy file's schema (JSON). Cross-references are checked after the shape. */
export const accessPolicySchema = z
  .object({
    version: z.literal(1),
    operators: z.record(
      name('operator'),
      z.object({ keys: z.array(publicKey).min(1), description: z.string().optional() }).strict(),
    ),
    groups: z.record(name('group'), z.array(name('operator'))).default({}),
    permissions: z
      .array(
        z
          .object({
            runbooks: runbookPatterns,
            operators: z.array(name('operator')).default([]),
            groups: z.array(name('group')).default([]),
            allow: z.array(permission).min(1),
          })
          .strict(),
      )
      .default([]),
    breakGlass: z
      .record(
        name('break-glass key'),
        z
          .object({
            key: publicKey,
            holder: z.string().min(1),
            runbooks: runbookPatterns.default(['*']),
            allow: z
              .array(permission)
              .min(1)
              .default([...PERMISSIONS]),
          })
          .strict(),
      )
      .default({}),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const operators = new Set(Object.keys(policy.operators));
    const seen = new Map<string, string>();
    const claim = (key: string, owner: string, path: Array<string | number>) => {
      const other = seen.get(key);
      if (other !== undefined)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `this key already belongs to ${other}; one key, one owner`,
        });
      else seen.set(key, owner);
    };
    for (const [operator, entry] of Object.entries(policy.operators))
      entry.keys.forEach((key, index) => claim(key, operator, ['operators', operator, 'keys', index]));
    for (const [id, entry] of Object.entries(policy.breakGlass))
      claim(entry.key, `break-glass key ${id}`, ['breakGlass', id, 'key']);
    for (const [group, members] of Object.entries(policy.groups))
      members.forEach((member, index) => {
        if (!operators.has(member))
          ctx.addIssue({
            code: 'custom',
            path: ['groups', group, index],
            message: `"${member}" is not an operator in this policy (operators: ${[...operators].join(', ') || 'none'})`,
          });
      });
    policy.permissions.forEach((rule, index) => {
      if (rule.operators.length === 0 && rule.groups.length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['permissions', index],
          message: 'a permission rule must name operators or groups',
        });
      rule.operators.forEach((operator, at) => {
        if (!operators.has(operator))
          ctx.addIssue({
            code: 'custom',
            path: ['permissions', index, 'operators', at],
            message: `"${operator}" is not an operator in this policy`,
          });
      });
      rule.groups.forEach((group, at) => {
        if (policy.groups[group] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['permissions', index, 'groups', at],
            message: `"${group}" is not a group in this policy (groups: ${Object.keys(policy.groups).join(', ') || 'none'})`,
          });
      });
    });
  });

/** Validates a parsed policy; returns it, or the problems with their paths (`permissions[0].allow[1]`). */
export function parseAccessPolicy(
  value: unknown,
): { ok: true; policy: AccessPolicy } | { ok: false; issues: Array<{ path: string; message: string }> } {
  const parsed = accessPolicySchema.safeParse(value, { error: unknownFieldMessage });
  if (parsed.success) return { ok: true, policy: parsed.data as AccessPolicy };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({ path: pathText(issue.path), message: issue.message })),
  };
}

function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(file)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
