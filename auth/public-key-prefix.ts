/** How a public key is written in key files, policies and signed statements: `ed25519:` and 64 hex digits. */
export const PUBLIC_KEY_PREFIX = 'ed25519:';
