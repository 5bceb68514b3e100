import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { StrictStats } from './call-stats';
import { lagSeriesSchema, lagValueSchema, type LagSeries, type LagState } from './lag-metrics';
import { settingsPatchSchema, type StrictAwsSettings, type StrictSettingsPatch } from './strict-settings';

/** The layer's own path; no AWS API path starts with it (S3 bucket names cannot start with `_`). */
export const CONTROL_PREFIX = '/__strict-aws';

/** What the control API can do to a running layer. */
export interface LayerControls {
  version: string;
  settings(): StrictAwsSettings;
  updateSettings(patch: StrictSettingsPatch): StrictAwsSettings;
  /** Strict defaults again; with `estate`, also forgets what the layer learned of moto's estate (after a moto reset). */
  reset(options: { estate: boolean }): Promise<StrictAwsSettings>;
  stats(): StrictStats;
  resetStats(): void;
  lag(): LagState[];
  setLag(series: LagSeries, value: number | null): Promise<void>;
  registerLagDefaults(entries: Array<{ series: LagSeries; value: number | null }>): Promise<void>;
}

const resetSchema = z.strictObject({ estate: z.boolean().optional() });
const lagDefaultsSchema = z.array(
  z.strictObject({ series: lagSeriesSchema, value: z.number().min(0).nullable() }),
);

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The control API (JSON over HTTP under `/__strict-aws/`), for tests, benchmarks and `sandbox aws`:
 *
 *   GET  health | settings | stats | lag
 *   POST settings {patch}     POST reset {estate?}     POST stats/reset
 *   POST lag {series, value}  POST lag/defaults [{series, value}]
 *
 * Bad input is refused with HTTP 400 naming the field and what is allowed; nothing changes then.
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  layer: LayerControls,
): Promise<void> {
  const route = `${req.method ?? 'GET'} ${(req.url ?? '').split('?')[0]!.slice(CONTROL_PREFIX.length)}`;
  try {
    switch (route) {
      case 'GET /health':
        return send(res, 200, { ok: true, version: layer.version });
      case 'GET /settings':
        return send(res, 200, layer.settings());
      case 'POST /settings':
        return send(res, 200, layer.updateSettings(settingsPatchSchema.parse(await readJson(req))));
      case 'POST /reset':
        return send(
          res,
          200,
          await layer.reset({ estate: resetSchema.parse(await readJson(req)).estate ?? false }),
        );
      case 'GET /stats':
        return send(res, 200, layer.stats());
      case 'POST /stats/reset':
        layer.resetStats();
        return send(res, 200, layer.stats());
      case 'GET /lag':
        return send(res, 200, layer.lag());
      case 'POST /lag': {
        const { series, value } = lagValueSchema.parse(await readJson(req));
        await layer.setLag(series, value);
        return send(res, 200, layer.lag());
      }
      case 'POST /lag/defaults':
        await layer.registerLagDefaults(lagDefaultsSchema.parse(await readJson(req)));
        return send(res, 200, layer.lag());
      default:
        return send(res, 404, {
          error: `no control route ${route}; routes: GET health|settings|stats|lag, POST settings|reset|stats/reset|lag|lag/defaults under ${CONTROL_PREFIX}/`,
        });
    }
  } catch (error) {
    if (error instanceof z.ZodError) {
      return send(res, 400, {
        error: error.issues
          .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
          .join('; '),
      });
    }
    if (error instanceof SyntaxError)
      return send(res, 400, { error: `the body is not JSON: ${error.message}` });
    throw error;
  }
}
