import { parseArgs } from 'node:util';
import { startStrictAwsLayer } from './strict-aws-layer';

/**
 * The strict AWS layer as its own process (started detached by `sandbox up`):
 *   node --import tsx sandbox/strict-aws/main.ts --target http://127.0.0.1:<moto> --port <port> [--state-file f] [--code-version v]
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'state-file': { type: 'string' },
      'code-version': { type: 'string', default: 'dev' },
    },
  });
  if (!values.target)
    throw new Error('--target (the moto endpoint, e.g. http://127.0.0.1:45215) is required');
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const layer = await startStrictAwsLayer({
    target: values.target,
    host: values.host,
    port: Number(values.port),
    stateFile: values['state-file'],
    version: values['code-version'],
    log,
  });
  const stop = () => {
    log('stopping');
    void layer.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`strict AWS layer did not start: ${(error as Error).stack}\n`);
  process.exit(1);
});
