/** What an operator's name may be: lower case letters, digits and . _ @ - (its own module: no schema library to load). */
export const OPERATOR_NAME = /^[a-z0-9][a-z0-9._@-]*$/;
