import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { EvacuationValidationError } from '../evacuations/evacuation-validation-error';
import { RunbookValidationError } from '../runbooks/runbook-validation-error';
import { UnknownRunbookError } from '../runbooks/catalog';
import { FailbackUnsupportedError } from '../runbooks/failback-unsupported-error';
import { ValueError } from '@temporalio/common';
import { CodecError } from '../security/codec/codec-error';
import { ENCRYPTED_ENCODING } from '../security/codec/encryption-codec';
import { SecretError } from '../security/secrets/secret-error';
import { ConfigError } from '../worker/config';
import { TemporalUnreachableError } from '../worker/temporal-unreachable-error';
import { AuthFileError } from '../auth/io/auth-file-error';
import { CliError, ExitCode } from './cli-error';
import { TemporalHttpUnreachableError } from './temporal-http';

/** Maps every error a command can meet to one clear message with a code and an exit code. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof RunbookValidationError) {
    return new CliError(error.code, error.message, ExitCode.BadInput, { issues: error.issues });
  }
  if (error instanceof EvacuationValidationError) {
    return new CliError(error.code, error.message, ExitCode.BadInput, { issues: error.issues });
  }
  if (error instanceof UnknownRunbookError) {
    return new CliError(error.code, error.message, ExitCode.BadInput, { known: error.known });
  }
  if (error instanceof FailbackUnsupportedError)
    return new CliError(error.code, error.message, ExitCode.BadInput);
  if (error instanceof ConfigError) return new CliError(error.code, error.message, ExitCode.Environment);
  if (error instanceof AuthFileError) {
    const exitCode = error.code === 'KeyFileExists' ? ExitCode.Refused : ExitCode.Environment;
    return new CliError(error.code, error.message, exitCode, {
      file: error.file,
      ...(error.issues.length > 0 ? { issues: error.issues } : {}),
    });
  }
  if (error instanceof TemporalUnreachableError || error instanceof TemporalHttpUnreachableError) {
    return new CliError(error.code, error.message, ExitCode.Environment);
  }
  if (error instanceof CodecError || error instanceof SecretError) {
    return new CliError(error.code, error.message, ExitCode.Environment);
  }
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return new CliError(
      'AlreadyStarted',
      `a run with id ${error.workflowId} was already started; it was not started twice. ` +
        `Follow it with \`drctl status ${error.workflowId}\`.`,
      ExitCode.Refused,
    );
  }
  if (error instanceof WorkflowNotFoundError) {
    return new CliError(
      'RunNotFound',
      `${error.message}: check the id with \`drctl runs\` or the Temporal UI`,
      ExitCode.BadInput,
    );
  }
  if (isEncryptedPayloadWithoutCodec(error)) {
    return new CliError(
      'CodecMisconfigured',
      "the run history is encrypted by drctl's payload codec, which is off here: turn it on with codec.enabled (DRCTL_CODEC=on) and the key the worker encrypts with, codec.kmsKeyId (DRCTL_CODEC_KMS_KEY_ID) or codec.keyringFile (DRCTL_CODEC_KEYRING_FILE)",
      ExitCode.Environment,
    );
  }
  const refusedArgument = invalidArgument(error);
  if (refusedArgument !== undefined) {
    return new CliError(
      'InvalidArgument',
      `${(error as Error).message}: Temporal refused the id (${refusedArgument}); check it with \`drctl runs\``,
      ExitCode.BadInput,
    );
  }
  const message = (error as Error)?.message ?? String(error);
  if (/PERMISSION_DENIED|UNAUTHENTICATED|Request unauthorized/i.test(message)) {
    return new CliError(
      'AccessDenied',
      `Temporal refused the credentials (${message.split('\n')[0]}): check TEMPORAL_API_KEY and TEMPORAL_NAMESPACE`,
      ExitCode.Environment,
    );
  }
  if (/UNAVAILABLE|ECONNREFUSED|DEADLINE_EXCEEDED/i.test(message)) {
    return new CliError(
      'TemporalUnreachable',
      `lost the connection to Temporal (${message.split('\n')[0]}): check the server and TEMPORAL_ADDRESS`,
      ExitCode.Environment,
    );
  }
  return new CliError('Unexpected', message.split('\n')[0] ?? 'unexpected error', ExitCode.Failed);
}

/**
 * The SDK's payload converter met an encrypted payload (`Unknown encoding: binary/encrypted`), here or as the cause
 * of what was thrown: the codec is off in this process, so it was never decrypted. With the codec on, such a
 * payload is decrypted or refused with a CodecError, so this is always the configuration.
 */
function isEncryptedPayloadWithoutCodec(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let cause = error; cause instanceof Error && !seen.has(cause); cause = cause.cause) {
    seen.add(cause);
    if (cause instanceof ValueError && cause.message === `Unknown encoding: ${ENCRYPTED_ENCODING}`)
      return true;
  }
  return false;
}

/** gRPC's INVALID_ARGUMENT status code. */
const GRPC_INVALID_ARGUMENT = 3;

/**
 * What Temporal said of a malformed run or workflow id (a run id that is no UUID), if it refused one. Only ids:
 * Temporal answers INVALID_ARGUMENT to other things too (a search attribute the namespace lacks, a payload over
 * its limit), which are no typo of the operator's.
 */
function invalidArgument(error: unknown): string | undefined {
  if (!(error instanceof ServiceError)) return undefined;
  const cause = error.cause as { code?: number; details?: string } | undefined;
  if (cause?.code !== GRPC_INVALID_ARGUMENT) return undefined;
  return /\b(run ?id|workflow ?id)\b/i.test(cause.details ?? '') ? cause.details : undefined;
}
