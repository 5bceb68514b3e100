import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DrctlConfig } from '../../worker/config';
import { codecFromConfig } from '../codec/data-converter';
import { CodecError } from '../codec/codec-error';
import { SecretResolver } from '../secrets/secret-resolver';
import { createSecretsManagerAdapter } from '../secrets/secrets-manager-adapter';
import { createCodecServer } from './codec-server';
import { createTokenCheck } from './token-check';

export interface RunningCodecServer {
  url: string;
  close: () => Promise<void>;
}

/**
 * Starts `drctl codec-server` from the configuration: the same codec as the worker and CLI, the token from
 * the config, env or Secrets Manager, and CORS for `codecServer.allowedOrigins`.
 */
export async function startCodecServer(
  config: DrctlConfig,
  log: (line: string) => void,
): Promise<RunningCodecServer> {
  const { listen, allowedOrigins, token } = config.codecServer;
  if (token === undefined) {
    throw new CodecError(
      'CodecMisconfigured',
      'the codec server refuses to run without a token: set codecServer.token (DRCTL_CODEC_SERVER_TOKEN, or DRCTL_CODEC_SERVER_TOKEN_SECRET naming a Secrets Manager secret)',
    );
  }
  const built = codecFromConfig(config);
  if (built === undefined) {
    throw new CodecError(
      'CodecMisconfigured',
      'the payload codec is off (codec.enabled / DRCTL_CODEC): a codec server has nothing to decode with; turn it on and name its key',
    );
  }
  const secretsClient = new SecretsManagerClient({
    region: config.aws.region,
    ...(config.aws.endpoint === undefined ? {} : { endpoint: config.aws.endpoint }),
  });
  let tokenValue: string;
  try {
    tokenValue = await new SecretResolver(createSecretsManagerAdapter(secretsClient), { ttlMs: 1 }).resolve(
      token,
      'codecServer.token',
    );
  } finally {
    secretsClient.destroy();
  }
  const { host, port } = parseListen(listen);
  const server = createCodecServer({
    codec: built.codec,
    isAuthorized: createTokenCheck(tokenValue),
    allowedOrigins,
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        built.close();
      }),
  };
}

/** `host:port` (port 0 picks a free one). */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port > 65535) {
    throw new CodecError(
      'CodecMisconfigured',
      `codecServer.listen must be host:port (e.g. 127.0.0.1:8088), not "${listen}"`,
    );
  }
  return { host: match[1], port };
}
