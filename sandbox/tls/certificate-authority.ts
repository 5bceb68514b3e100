import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../run-command';
import { SandboxError } from '../sandbox-error';

/**
 * A certificate authority for the local stack only, driven through Debian's `openssl`: keys are ECDSA P-256
 * and never leave the folder. The product itself only reads PEM files (Node TLS, pg); it never issues any.
 */
export interface CertificateAuthority {
  certFile: string;
  keyFile: string;
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

export interface CertificateRequest {
  /** File stem: `<dir>/<name>.crt` and `<dir>/<name>.key`. */
  name: string;
  commonName: string;
  /** Subject alternative names: what a client's host name check compares with. */
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client';
  days?: number;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Creates `<dir>/ca.key` and `<dir>/ca.crt` unless both exist (or `replace`). */
export async function ensureCertificateAuthority(
  dir: string,
  commonName: string,
  options: { replace?: boolean } = {},
): Promise<CertificateAuthority> {
  const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  if (!options.replace && existsSync(ca.certFile) && existsSync(ca.keyFile)) return ca;
  mkdirSync(dir, { recursive: true });
  await withConfig(
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ca_ext',
      'prompt = no',
      '[dn]',
      `CN = ${commonName}`,
      '[ca_ext]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
    ],
    (config) =>
      openssl([
        'req',
        '-x509',
        '-new',
        ...EC_KEY,
        '-config',
        config,
        '-days',
        '825',
        '-keyout',
        ca.keyFile,
        '-out',
        ca.certFile,
      ]),
  );
  chmodSync(ca.keyFile, 0o600);
  return ca;
}

/** Issues `<dir>/<name>.crt` (signed by `ca`) and its key `<dir>/<name>.key` (0600), replacing older ones. */
export async function issueCertificate(
  ca: CertificateAuthority,
  dir: string,
  request: CertificateRequest,
): Promise<IssuedCertificate> {
  const issued = { certFile: join(dir, `${request.name}.crt`), keyFile: join(dir, `${request.name}.key`) };
  const csr = join(dir, `${request.name}.csr`);
  const altNames = [
    ...(request.dnsNames ?? []).map((name) => `DNS:${name}`),
    ...(request.ipAddresses ?? []).map((address) => `IP:${address}`),
  ];
  mkdirSync(dir, { recursive: true });
  try {
    await openssl([
      'req',
      '-new',
      ...EC_KEY,
      '-subj',
      `/CN=${request.commonName}`,
      '-keyout',
      issued.keyFile,
      '-out',
      csr,
    ]);
    chmodSync(issued.keyFile, 0o600);
    await withConfig(
      [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyAgreement',
        `extendedKeyUsage = ${request.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        ...(altNames.length > 0 ? [`subjectAltName = ${altNames.join(', ')}`] : []),
      ],
      (extensions) =>
        openssl([
          'x509',
          '-req',
          '-in',
          csr,
          '-CA',
          ca.certFile,
          '-CAkey',
          ca.keyFile,
          '-set_serial',
          `0x${randomBytes(16).toString('hex')}`,
          '-days',
          String(request.days ?? 365),
          '-extfile',
          extensions,
          '-out',
          issued.certFile,
        ]),
    );
  } finally {
    rmSync(csr, { force: true });
  }
  return issued;
}

async function withConfig<T>(lines: string[], use: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-openssl-'));
  const file = join(dir, 'openssl.cnf');
  writeFileSync(file, `${lines.join('\n')}\n`);
  try {
    return await use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<void> {
  try {
    await runCommand('openssl', args);
  } catch (error) {
    if ((error as Error).message.includes('ENOENT')) {
      throw new SandboxError(
        'MissingTool',
        'openssl is not installed: run `npm run setup` (installs the Debian package openssl)',
      );
    }
    throw error;
  }
}
