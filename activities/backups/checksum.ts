import { createHash } from 'node:crypto';
import type { ChecksumAlgorithm } from './s3-port';

/** An incremental checksum producing the base64 form S3 stores. */
export interface Checksum {
  update(chunk: Uint8Array): void;
  digestBase64(): string;
}

/** Strongest first: the one to recompute when an object carries several. */
export const CHECKSUM_PREFERENCE: readonly ChecksumAlgorithm[] = [
  'SHA256',
  'SHA1',
  'CRC32C',
  'CRC32',
  'CRC64NVME',
];

/** The algorithms this module can recompute (CRC64NVME is not implemented here). */
export function canRecompute(algorithm: ChecksumAlgorithm): boolean {
  return algorithm !== 'CRC64NVME';
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'SHA256':
    case 'SHA1': {
      const hash = createHash(algorithm === 'SHA256' ? 'sha256' : 'sha1');
      return { update: (chunk) => void hash.update(chunk), digestBase64: () => hash.digest('base64') };
    }
    case 'CRC32':
      return crc(CRC32_TABLE);
    case 'CRC32C':
      return crc(CRC32C_TABLE);
    case 'CRC64NVME':
      throw new RangeError(
        'CRC64NVME checksums cannot be recomputed by drctl yet; upload backups with SHA256 or CRC32',
      );
  }
}

/** Hashes a stream chunk by chunk (never holding it whole), calling `afterChunk` after each, e.g. to heartbeat. */
export async function checksumOf(
  algorithm: ChecksumAlgorithm,
  chunks: AsyncIterable<Uint8Array>,
  afterChunk: (chunk: Uint8Array) => void = () => {},
): Promise<string> {
  const checksum = createChecksum(algorithm);
  for await (const chunk of chunks) {
    checksum.update(chunk);
    afterChunk(chunk);
  }
  return checksum.digestBase64();
}

function crc(table: Uint32Array): Checksum {
  let value = 0xffffffff;
  return {
    update(chunk) {
      for (const byte of chunk) value = (table[(value ^ byte) & 0xff] ?? 0) ^ (value >>> 8);
    },
    digestBase64() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE((value ^ 0xffffffff) >>> 0);
      return out.toString('base64');
    },
  };
}

function crcTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = crcTable(0xedb88320);
const CRC32C_TABLE = crcTable(0x82f63b78);
