import { randomBytes } from 'node:crypto';
import { readKeyFile } from '../auth/io/key-file';
import { ed25519PrivateKey, signStatement } from '../auth/io/native-ed25519';
import type { SignedStatement } from '../auth/signature';
import type { OperatorStatement } from '../auth/statement';

/** What a command says it does; the signer adds who (the key file's operator), when and a fresh nonce. */
export type StatementFields = Omit<OperatorStatement, 'operator' | 'at' | 'nonce' | 'breakGlass'>;

/** Signs operator statements with the operator's key file. The private key stays in this process. */
export interface OperatorSigner {
  /** The operator name the key file carries (the policy decides who the key's owner really is). */
  name: string;
  publicKey: string;
  breakGlass: boolean;
  sign(fields: StatementFields): SignedStatement;
}

/**
 * Loads the key file once (a missing or corrupt file is an AuthFileError: exit 3, nothing sent). With
 * `breakGlass` every statement is marked as a break-glass use, which the worker records and reports.
 */
export function loadSigner(
  keyFile: string,
  options: { breakGlass?: boolean; now?: () => Date } = {},
): OperatorSigner {
  const key = readKeyFile(keyFile);
  const privateKey = ed25519PrivateKey(key.privateKey);
  const breakGlass = options.breakGlass === true;
  const now = options.now ?? (() => new Date());
  return {
    name: key.name,
    publicKey: key.publicKey,
    breakGlass,
    sign: (fields) =>
      signStatement(
        {
          ...fields,
          operator: key.name,
          at: now().toISOString(),
          nonce: randomBytes(16).toString('hex'),
          ...(breakGlass ? { breakGlass: true } : {}),
        },
        privateKey,
      ),
  };
}
