import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LagMetrics } from '../../sandbox/strict-aws/lag-metrics';

/**
 * The layer republishes every lag series it controls to moto, as RDS publishes ReplicaLag. moto is one Python
 * process: a PutMetricData per series per interval (200 replicas in the fleet benchmark) kept it busy enough to slow
 * every other call, so a round goes as one PutMetricData per region of up to 1,000 datums (AWS's limit per call).
 * Here a recording endpoint stands in for moto's CloudWatch and answers as it does.
 */
interface Put {
  region: string;
  datums: Array<{ MetricName: string; Dimensions: Array<{ Value: string }>; Value: number }>;
}

function recordingCloudWatch(): Promise<{ server: Server; endpoint: string; puts: Put[] }> {
  const puts: Put[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.headers['content-encoding'] !== undefined) {
        // moto reads no compressed body: it answers an HTML error page.
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<!doctype html><title>500 Internal Server Error</title>');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { MetricData: Put['datums'] };
      const region = /\/\d{8}\/([a-z0-9-]+)\/monitoring\//.exec(req.headers.authorization ?? '')?.[1] ?? '?';
      puts.push({ region, datums: body.MetricData });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  return new Promise((ready) =>
    server.listen(0, '127.0.0.1', () =>
      ready({ server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, puts }),
    ),
  );
}

describe('the layer republishing lag series', () => {
  let cloudwatch: Awaited<ReturnType<typeof recordingCloudWatch>>;
  let lag: LagMetrics;

  beforeEach(async () => {
    cloudwatch = await recordingCloudWatch();
    lag = new LagMetrics(cloudwatch.endpoint, () => undefined);
  });

  afterEach(async () => {
    lag.close();
    await new Promise((closed) => cloudwatch.server.close(closed));
  });

  it('GIVEN 1,200 replicas in one region and 30 in another, set at once THEN setting them and each round are one PutMetricData per region and 1,000 datums, each series once with its value', async () => {
    const series = (region: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        series: { metricName: 'ReplicaLag' as const, resourceId: `${region}-replica-${i}`, region },
        value: i % 7,
      }));
    const west = series('us-west-2', 1_200);
    const east = series('us-east-1', 30);
    await lag.registerDefaults([...west, ...east]);
    const registered = cloudwatch.puts.splice(0);

    lag.start(1_000);
    const deadline = Date.now() + 1_900;
    while (cloudwatch.puts.length < 3 && Date.now() < deadline)
      await new Promise((elapsed) => setTimeout(elapsed, 20));
    lag.stop();
    await new Promise((elapsed) => setTimeout(elapsed, 100));

    const round = cloudwatch.puts;
    const shape = (puts: Put[]) => puts.map((put) => [put.region, put.datums.length]).sort();
    const perRegion = [
      ['us-east-1', 30],
      ['us-west-2', 1_000],
      ['us-west-2', 200],
    ];
    // Set within one second, the series go out together too.
    expect(shape(registered)).toEqual(perRegion);
    expect(shape(round)).toEqual(perRegion);
    const published = new Map(
      round.flatMap((put) =>
        put.datums.map((d) => [`${put.region}/${d.Dimensions[0]?.Value}`, d.Value] as const),
      ),
    );
    expect(published.size).toBe(1_230);
    for (const { series: s, value } of [...west, ...east])
      expect(published.get(`${s.region}/${s.resourceId}`)).toBe(value);
  });
});
