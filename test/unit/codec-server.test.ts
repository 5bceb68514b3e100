import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { createCodecServer } from '../../security/codec-server/codec-server';
import { createTokenCheck } from '../../security/codec-server/token-check';
import { EncryptionCodec } from '../../security/codec/encryption-codec';
import { createKeyringKeySource } from '../../security/codec/keyring-key-source';

const TOKEN = randomBytes(32).toString('hex');
const UI = 'http://127.0.0.1:8233';
let server: Server;
let url: string;
const logLines: string[] = [];

beforeAll(async () => {
  const keyring = join(mkdtempSync(join(tmpdir(), 'drctl-codec-server-')), 'keyring.json');
  writeFileSync(
    keyring,
    JSON.stringify({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
    {
      mode: 0o600,
    },
  );
  chmodSync(keyring, 0o600);
  server = createCodecServer({
    codec: new EncryptionCodec({ encryptWith: createKeyringKeySource(keyring) }),
    isAuthorized: createTokenCheck(TOKEN),
    allowedOrigins: [UI],
    log: (line) => logLines.push(line),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The payloads as the Web UI sends them: proto3 JSON, bytes in base64. */
function body(values: unknown[]): string {
  const payloads = values.map((value) => {
    const payload = defaultPayloadConverter.toPayload(value);
    return {
      metadata: Object.fromEntries(
        Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(payload.data ?? []).toString('base64'),
    };
  });
  return JSON.stringify({ payloads });
}

function post(path: string, payloadBody: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
    body: payloadBody,
  });
}

const bearer = { Authorization: `Bearer ${TOKEN}` };

test('GIVEN no or wrong credentials WHEN /decode or /encode is called THEN 401 and nothing is decoded', async () => {
  const anonymous = await post('/decode', body(['x']));
  const wrong = await post('/decode', body(['x']), { Authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
  const wrongBasic = await post('/encode', body(['x']), {
    Authorization: `Basic ${Buffer.from('ui:not-the-token').toString('base64')}`,
  });

  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(await anonymous.text()).not.toContain('payloads');
  expect(wrong.status).toBe(401);
  expect(wrongBasic.status).toBe(401);
});

test('GIVEN the token WHEN a payload is encoded then decoded THEN the round trip restores it, and the encoded form hides it', async () => {
  const encoded = await post('/encode', body([{ reason: 'INC-4411' }]), bearer);
  expect(encoded.status).toBe(200);
  const encodedBody = await encoded.text();
  expect(Buffer.from(encodedBody).includes(Buffer.from('INC-4411'))).toBe(false);
  expect(JSON.stringify(encodedBody)).not.toContain(Buffer.from('{"reason":"INC-4411"}').toString('base64'));

  const decoded = await post('/default/decode', encodedBody, {
    Authorization: `Basic ${Buffer.from(`ui:${TOKEN}`).toString('base64')}`,
  });

  expect(decoded.status).toBe(200);
  const { payloads } = (await decoded.json()) as {
    payloads: Array<{ metadata: Record<string, string>; data: string }>;
  };
  expect(payloads).toHaveLength(1);
  expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
  expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({ reason: 'INC-4411' });
});

test('GIVEN the configured UI origin WHEN the browser preflights THEN CORS allows it with credentials; any other origin is refused', async () => {
  const preflight = (origin: string) =>
    fetch(`${url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
      },
    });

  const allowed = await preflight(UI);
  const other = await preflight('http://evil.example:8233');

  expect(allowed.status).toBe(204);
  expect(allowed.headers.get('access-control-allow-origin')).toBe(UI);
  expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
  expect(allowed.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
  expect(other.status).toBe(403);
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

test('GIVEN a valid token WHEN the request comes from an origin not allowed THEN 403, so a page elsewhere cannot use a browser that holds the token', async () => {
  const refused = await post('/decode', body(['x']), { ...bearer, Origin: 'http://evil.example' });
  const fromUi = await post('/decode', body(['x']), { ...bearer, Origin: UI });

  expect(refused.status).toBe(403);
  expect(fromUi.status).toBe(200);
  expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI);
});

test('GIVEN a browser WHEN it opens the server THEN it is asked for the token (Basic), and unknown routes and methods are refused', async () => {
  const challenge = await fetch(`${url}/`);
  const unknown = await post('/decrypt', body(['x']), bearer);
  const get = await fetch(`${url}/decode`, { headers: bearer });

  expect(challenge.status).toBe(401);
  expect(challenge.headers.get('www-authenticate')).toBe('Basic realm="drctl codec server"');
  expect(unknown.status).toBe(404);
  expect(get.status).toBe(405);
});

test('the request log names route, namespace and status, never the token or payload contents', () => {
  expect(logLines.some((line) => /POST \/decode namespace=default .* -> 401/.test(line))).toBe(true);
  expect(logLines.join('\n')).not.toContain(TOKEN);
  expect(logLines.join('\n')).not.toContain('INC-4411');
});

test('a token shorter than 16 characters is refused at start', () => {
  expect(() => createTokenCheck('short')).toThrow(/at least 16 characters/);
});
