import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces move into an encoded payload, so the payload codec encrypts them like any
 * other value: error text (which may name hosts, users, reasons) is never plain in history. Loaded by path
 * (`failureConverterPath`) by the Client and the Worker, and bundled into the workflow code.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
