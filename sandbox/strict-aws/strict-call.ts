import type { IncomingHttpHeaders } from 'node:http';
import type { FaultRequest } from '../fault-proxy/classify';
import type { AwsError, WireProtocol } from '../fault-proxy/error-bodies';

/** One AWS call as the strict layer sees it, before it decides to refuse, answer or forward it. */
export interface StrictCall {
  info: FaultRequest;
  /** The SigV4 credential scope's region; `us-east-1` when the request names none (Route 53 signs so). */
  region: string;
  protocol: WireProtocol;
  /** The request's HTTP headers (S3 carries its parameters there). */
  headers: IncomingHttpHeaders;
  /** The request body, when the layer buffered it (Query forms, Route 53 change batches, JSON calls). */
  body?: Buffer;
  /** The Query-protocol parameters (RDS); empty for other protocols. */
  params: URLSearchParams;
  /** The layer's clock for this call, so one call sees one instant. */
  now: number;
}

/** What a rule decides for a call; no outcome means "forward it as sent". */
export type StrictOutcome =
  /** Answer with an AWS error (counted as refused). `extraErrorXml` goes inside `<Error>`. */
  | { kind: 'refuse'; error: AwsError; extraErrorXml?: string }
  /** Answer in moto's place (an API moto lacks). */
  | { kind: 'answer'; status: number; contentType: string; body: string }
  /**
   * Forward, optionally with a changed body; `rewrite` may change a 2xx answer before the client sees it, and
   * `after` sees every answer (e.g. to record a change that moto accepted).
   */
  | {
      kind: 'forward';
      body?: Buffer;
      rewrite?: (body: string) => string | Promise<string>;
      after?: (status: number, body: string) => void;
    };

export type StrictRule = (call: StrictCall) => Promise<StrictOutcome | undefined>;

export function refuse(status: number, code: string, message: string): StrictOutcome {
  return { kind: 'refuse', error: { status, code, message, type: 'Sender' } };
}
