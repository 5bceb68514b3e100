import { z } from 'zod';

/**
 * Who must approve an approval gate: `count` distinct operators (verified key owners), from `group` when
 * given, none of them the operator who started the run when `forbidInitiator` is set. A break-glass approval
 * satisfies any rule on its own (and is recorded as such).
 */
export interface ApprovalRule {
  count: number;
  group?: string;
  forbidInitiator: boolean;
}

/** The `approvers` field of an approval step in a runbook. */
export const approversSchema = z
  .object({
    /** How many distinct operators must approve. Default 1. */
    count: z.number().int().min(1).max(10).default(1),
    /** The access policy's group they must belong to. */
    group: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'a group name: lower case letters, digits, . _ -')
      .optional(),
    /** The operator who started the run may not approve. */
    forbidInitiator: z.boolean().default(false),
  })
  .strict();

export type ApproversInput = z.input<typeof approversSchema>;

/** The rule of a gate: `approvers` if given; `twoPerson: true` is shorthand for forbidInitiator. */
export function approvalRuleOf(gate: { twoPerson?: boolean; approvers?: ApprovalRule }): ApprovalRule {
  const base = gate.approvers ?? { count: 1, forbidInitiator: false };
  return {
    count: base.count,
    ...(base.group === undefined ? {} : { group: base.group }),
    forbidInitiator: base.forbidInitiator || gate.twoPerson === true,
  };
}

/** One line for prompts and status: `2 approvers from dba, not the initiator`. */
export function describeRule(rule: ApprovalRule): string {
  const who = `${rule.count} approver${rule.count === 1 ? '' : 's'}${rule.group ? ` from ${rule.group}` : ''}`;
  return rule.forbidInitiator ? `${who}, not the initiator` : who;
}
