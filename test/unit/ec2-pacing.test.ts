import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SecurityGroup } from '../../activities/database/rds-port';
import { loadConfig } from '../../worker/config';
import { createProviderPorts } from '../../worker/provider-ports';

const THROTTLED =
  '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>';
const NO_GROUPS =
  '<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><securityGroupInfo/></DescribeSecurityGroupsResponse>';

test('GIVEN EC2 throttles the fence group’s reads past the SDK’s own retries (another client spends the account’s budget) WHEN the worker’s RDS port reads them THEN the read waits and succeeds: throttling slows a fence, it never fails it (before: RequestLimitExceeded after 5 attempts)', async () => {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests++;
      const throttled = requests <= 5;
      response.writeHead(throttled ? 503 : 200, { 'content-type': 'text/xml' });
      response.end(throttled ? THROTTLED : NO_GROUPS);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  const worker = createProviderPorts(
    loadConfig({ env: {}, overrides: { aws: { endpoint: `http://127.0.0.1:${port}` } } }),
  );
  try {
    const groups: SecurityGroup[] = await new MockActivityEnvironment().run(() =>
      worker.ports.rds.findSecurityGroups('us-east-1', { ids: ['sg-0123456789abcdef0'] }),
    );

    expect(groups).toEqual([]);
    expect(requests).toBe(6);
    expect(worker.pacer.stats()['ec2:us-east-1']).toMatchObject({ throttles: expect.any(Number) });
  } finally {
    worker.close();
    server.closeAllConnections();
    await new Promise((closed) => server.close(closed));
  }
}, 30_000);
