import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { EvidencePorts } from '../activities/evidence/evidence-activities';
import { createS3EvidenceStore } from '../activities/evidence/s3-evidence-store';
import { ChainLayout } from '../evidence/layout';
import type { EvidenceStore } from '../evidence/store-port';
import { loadPolicyFile } from '../auth/io/policy-file';
import { ConfigError, type DrctlConfig } from './config';

/** The evidence bucket as a store, or undefined when no bucket is configured. */
export function createEvidenceStore(config: DrctlConfig): { store?: EvidenceStore; close: () => void } {
  const { bucket, region, kmsKeyId } = config.evidence;
  if (!bucket) return { close: () => undefined };
  const endpoint = config.aws.endpoint;
  const s3 = new S3Client({
    region: region ?? config.aws.region,
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
  });
  return {
    store: createS3EvidenceStore(s3, bucket, kmsKeyId === undefined ? {} : { kmsKeyId }),
    close: () => s3.destroy(),
  };
}

export function evidenceLayout(config: DrctlConfig): ChainLayout {
  return new ChainLayout(config.evidence.prefix, config.temporal.namespace);
}

/** The manifest signing key (worker side), or undefined when none is configured. */
export function loadSigningKey(config: DrctlConfig): KeyObject | undefined {
  const file = config.evidence.signingKeyFile;
  if (!file) return undefined;
  const key = readKey(file, 'evidence.signingKeyFile (DRCTL_EVIDENCE_SIGNING_KEY_FILE)', (pem) =>
    createPrivateKey(pem),
  );
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(
      `the evidence signing key ${file} is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519: generate one with \`openssl genpkey -algorithm ed25519 -out ${file}\``,
    );
  }
  return key;
}

/** The public keys a verifier trusts: the configured ones, else the public half of the signing key. */
export function loadTrustedKeys(config: DrctlConfig): KeyObject[] {
  const files = config.evidence.publicKeyFiles;
  if (files.length > 0) {
    return files.map((file) =>
      readKey(file, 'evidence.publicKeyFiles (DRCTL_EVIDENCE_PUBLIC_KEY_FILES)', (pem) =>
        createPublicKey(pem),
      ),
    );
  }
  const signing = loadSigningKey(config);
  if (!signing) {
    throw new ConfigError(
      'no evidence public key to verify with: set DRCTL_EVIDENCE_PUBLIC_KEY_FILES (evidence.publicKeyFiles) to the PEM file(s) of the evidence key',
    );
  }
  return [createPublicKey(signing)];
}

/** What the worker's evidence activities get: its Temporal client, the bucket and the signing key. */
export function createEvidencePorts(
  config: DrctlConfig,
  temporal: Client,
): { ports: EvidencePorts; close: () => void } {
  const { store, close } = createEvidenceStore(config);
  const signingKey = loadSigningKey(config);
  return {
    ports: {
      temporal,
      namespace: config.temporal.namespace,
      ledgerTaskQueue: config.evidence.taskQueue,
      prefix: config.evidence.prefix,
      retentionYears: config.evidence.retentionYears,
      ...(store ? { store } : {}),
      ...(signingKey ? { signingKey } : {}),
      // Read at each bundle: the policy in force when the run ended is the one that governed it.
      ...(config.access.policyFile ? { loadPolicy: () => loadPolicyFile(config.access.policyFile) } : {}),
    },
    close,
  };
}

function readKey(file: string, setting: string, parse: (pem: string) => KeyObject): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${setting}: cannot read ${file} (${(error as Error).message}); check the path`);
  }
  try {
    return parse(pem);
  } catch (error) {
    throw new ConfigError(`${setting}: ${file} is not a PEM key (${(error as Error).message})`);
  }
}
