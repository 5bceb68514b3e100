/**
 * A workflow id that may be written into a Temporal visibility query as a quoted literal: letters, digits and
 * . _ : @ - (every id drctl makes). Any other id is never put into a query.
 */
export const QUERYABLE_WORKFLOW_ID = /^[\w.:@-]+$/;
