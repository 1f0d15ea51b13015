import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** What an SDK v3 client hands its HTTP handler: the parts the in-process services read. */
export interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * The client configuration that answers every request of an SDK v3 client inside this process
 * (InProcessKms, InProcessSes): the real client still serialises and signs each request, with
 * made-up credentials, and `handle` answers it. Nothing leaves the machine.
 */
export function answeredInProcess(handle: (request: WireRequest) => Promise<{ response: unknown }>) {
  return {
    region: 'us-east-1',
    credentials: { accessKeyId: 'ASIABENCHMARKEXAMPLE', secretAccessKey: 'benchmark', sessionToken: 'benchmark' },
    requestHandler: { handle, updateHttpClientConfig: () => {}, httpHandlerConfigs: () => ({}) },
  };
}

/** The request's JSON body. The SDK's body is a Uint8Array subclass whose valueOf() warns: read its bytes, not the object. */
export function jsonBodyOf(request: WireRequest): unknown {
  const body = request.body instanceof Uint8Array ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8') : String(request.body ?? '{}');
  return JSON.parse(body);
}

/** An HTTP answer with a JSON body, as the service would send it. */
export function jsonResponse(statusCode: number, contentType: string, output: unknown): { response: unknown } {
  const payload = Buffer.from(JSON.stringify(output));
  return {
    response: {
      statusCode,
      reason: statusCode === 200 ? 'OK' : 'Bad Request',
      headers: { 'content-type': contentType, 'content-length': String(payload.length), 'x-amzn-requestid': randomBytes(8).toString('hex') },
      body: Readable.from([payload]),
    },
  };
}
