// Starts the sandbox's Unleash server. Everything comes from the environment, which the sandbox sets:
//   DATABASE_URL         postgres://user:password@host:port/unleash (required)
//   UNLEASH_HOST         address to listen on (default 127.0.0.1)
//   UNLEASH_PORT         port to listen on (default 4242)
//   UNLEASH_ADMIN_TOKEN  admin token, `*:*.<secret>` (required)
//   UNLEASH_CLIENT_TOKEN backend token, `default:development.<secret>` (required)
//   CHECK_VERSION, SEND_TELEMETRY  `false`: read by unleash-server itself (src/lib/create-config.ts)
// Tokens are created on the first start only (Unleash skips init tokens once any token exists), so keep them.
import { start } from 'unleash-server';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(
      `start.mjs: environment variable ${name} is not set; the sandbox sets it, see sandbox/unleash-server.ts`,
    );
    process.exit(2);
  }
  return value;
}

function tokenParts(token, name) {
  const match = /^([^:]+):([^.]+)\..+$/.exec(token);
  if (!match) {
    console.error(`start.mjs: ${name} must look like <project>:<environment>.<secret>, got "${token}"`);
    process.exit(2);
  }
  return { project: match[1], environment: match[2] };
}

const databaseUrl = required('DATABASE_URL');
const adminToken = required('UNLEASH_ADMIN_TOKEN');
const clientToken = required('UNLEASH_CLIENT_TOKEN');
const client = tokenParts(clientToken, 'UNLEASH_CLIENT_TOKEN');
tokenParts(adminToken, 'UNLEASH_ADMIN_TOKEN');

const unleash = await start({
  databaseUrl,
  db: { ssl: false },
  server: {
    host: process.env.UNLEASH_HOST ?? '127.0.0.1',
    port: Number.parseInt(process.env.UNLEASH_PORT ?? '4242', 10),
  },
  logLevel: process.env.UNLEASH_LOG_LEVEL ?? 'warn',
  // No phoning home: the sandbox has no internet and must not depend on it. (Telemetry is off through
  // SEND_TELEMETRY=false, which the sandbox sets: unleash-server 8 reads `options.telemetry || env`, so
  // `telemetry: false` here would not turn it off.)
  versionCheck: { enable: false },
  authentication: {
    initApiTokens: [
      {
        tokenName: 'drctl-sandbox-admin',
        type: 'admin',
        projects: ['*'],
        environment: '*',
        secret: adminToken,
      },
      {
        tokenName: 'drctl-sandbox-backend',
        type: 'backend',
        projects: [client.project],
        environment: client.environment,
        secret: clientToken,
      },
    ],
  },
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    unleash.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
