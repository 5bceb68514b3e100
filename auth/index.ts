/**
 * The pure half of drctl's operator authentication: statements, Ed25519 signatures (@noble/curves), the access
 * policy's types and schema, approval rules and the OperatorAuthority that applies them. No I/O and no Node
 * built-ins, so workflow code may import it; files and keys are in auth/io.
 */
export type { AccessPolicy, BreakGlassKey, LoadedPolicy, PermissionRule } from './access-policy';
export { approvalRuleOf, approversSchema, describeRule, type ApprovalRule } from './approval-rule';
export {
  AuthorizationError,
  OperatorAuthority,
  STATEMENT_MAX_AGE_MS,
  type AuthorizationRefusal,
  type Expectation,
  type VerifiedAction,
} from './operator-authority';
export {
  PERMISSIONS,
  permissionFor,
  STATEMENT_ACTIONS,
  type Permission,
  type StatementAction,
} from './permissions';
export { runbookSha256, sha256OfBytes } from './sha256';
export { isPublicKey, signatureIsValid, type SignedStatement } from './signature';
export { canonicalStatement, type OperatorStatement } from './statement';
export {
  verifyRecordedActions,
  type ActionVerdict,
  type RecordedAction,
  type RunRecord,
} from './recorded-actions';
