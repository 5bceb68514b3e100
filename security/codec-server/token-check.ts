import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks the credentials of a codec-server request against the configured token, in constant time (both sides
 * are hashed first, so neither the token's length nor its content leaks through timing). Accepted forms:
 * `Authorization: Bearer <token>` (scripts, `temporal --codec-auth "Bearer …"`) and
 * `Authorization: Basic <base64 of any-user:token>` (a browser that was asked once, then sends it with the
 * Web UI's "include cross-origin credentials").
 */
export function createTokenCheck(token: string): (authorization: string | undefined) => boolean {
  if (token.length < 16) {
    throw new Error(
      'the codec server token must be at least 16 characters: generate one with openssl rand -hex 32',
    );
  }
  const expected = digest(token);
  return (authorization) => {
    const presented = presentedToken(authorization);
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}

function presentedToken(authorization: string | undefined): string | undefined {
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1] || !match[2]) return undefined;
  if (match[1].toLowerCase() === 'bearer') return match[2];
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
