import { describe, expect, it } from 'vitest';
import { createMfaClient, MfaProblemError, parseRetryAfter, type MfaClient } from '../../client/index.js';
import type { oas31 } from 'zod-openapi';
import { PROBLEMS, problemBody } from '../../functions/http/problems.js';
import { readCommittedDocument } from '../support/openapi-contract.js';

interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body: string | undefined;
}

/** A client whose fetch records what it was asked to send and answers with `reply`. */
function clientWith(reply: () => Response = () => Response.json({})) {
  const sent: Sent[] = [];
  const client = createMfaClient({
    baseUrl: 'https://mfa.example.com/',
    getToken: () => 'first-factor-token',
    fetch: async (input, init) => {
      sent.push({ method: init?.method ?? 'GET', url: String(input), headers: new Headers(init?.headers), body: init?.body as string | undefined });
      return reply();
    },
  });
  return { client, sent };
}

const document = readCommittedDocument();
/** The operator's API (`/admin/v1`, SigV4) and its local token are not the app's: `npm run admin` calls them, not this client. */
const isOperatorOnly = (operation: unknown) =>
  ((operation as oas31.OperationObject).tags ?? []).includes('Administration') || (operation as oas31.OperationObject).operationId === 'createDevAdminToken';
const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  Object.entries(item ?? {}).filter(([, operation]) => !isOperatorOnly(operation)).map(([method, operation]) => ({
    id: (operation as { operationId: string }).operationId,
    method: method.toUpperCase(),
    path,
    authenticated: ((operation as { security?: unknown[] }).security ?? []).length > 0,
    hasBody: Boolean((operation as { requestBody?: unknown }).requestBody),
  })),
);

/** Valid arguments for each method that takes a path parameter or a body. */
const KEY_ASSERTION = {
  id: 'AQID',
  rawId: 'AQID',
  type: 'public-key',
  response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
  clientExtensionResults: {},
};
const ARGUMENTS: Record<string, unknown[]> = {
  confirmTotpEnrollment: [{ code: '123456' }],
  confirmEmailEnrollment: [{ code: '12345678' }],
  verifyMfa: [{ code: '123456' }],
  regenerateRecoveryCodes: [{ recoveryCode: '7Q2M-KD9X-4HWR-P0ZA' }],
  disableTotp: [{ code: '123456' }],
  createDevToken: [{ sub: 'alice' }],
  confirmWebAuthnRegistration: [{ credential: { ...KEY_ASSERTION, response: { clientDataJSON: 'e30', attestationObject: 'AAAA' } }, name: 'YubiKey' }],
  renameAuthenticator: ['Jq3r8mZt0aXk2Vb9', { name: 'Phone' }],
  removeAuthenticator: ['Jq3r8mZt0aXk2Vb9', { webauthn: KEY_ASSERTION }],
  startDeviceChallenge: ['q3M0cXb7Rk2yH9vLw1ZsAg'],
  forgetDevice: ['Jq3r8mZt0aXk2Vb9'],
};
/** Path parameters as the arguments above fill them in. */
const PATH_PARAMETERS: Record<string, string> = { id: 'Jq3r8mZt0aXk2Vb9' };

describe('typed client', () => {
  it('has one method per operation in openapi.json, named by its operationId', () => {
    const { client } = clientWith();
    expect(Object.keys(client).sort()).toEqual(operations.map((operation) => operation.id).sort());
  });

  it.each(operations.map((operation) => [operation.id, operation] as const))('%s calls its documented method and path', async (id, operation) => {
    const { client, sent } = clientWith();
    const method = client[id as keyof MfaClient] as (...args: unknown[]) => Promise<unknown>;
    await method(...(ARGUMENTS[id] ?? []));
    expect(sent).toHaveLength(1);
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => PATH_PARAMETERS[name]!);
    expect({ method: sent[0]!.method, url: sent[0]!.url }).toEqual({ method: operation.method, url: `https://mfa.example.com${path}` });
    expect(sent[0]!.headers.get('authorization')).toBe(operation.authenticated ? 'Bearer first-factor-token' : null);
    expect(sent[0]!.body !== undefined).toBe(operation.hasBody);
    if (operation.hasBody) expect(sent[0]!.headers.get('content-type')).toBe('application/json');
  });

  it('returns the parsed body of a success', async () => {
    const status = { mfaEnabled: false, methods: { totp: { enabled: false, enrolledAt: null, lastUsedAt: null, count: 0 }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } }, recoveryCodes: { remaining: 0 }, authenticators: [] };
    const { client } = clientWith(() => Response.json(status));
    await expect(client.getMfaStatus()).resolves.toEqual(status);
  });

  it('throws a problem as MfaProblemError with its code, status, title, detail and Retry-After', async () => {
    const body = problemBody({ code: 'too_many_attempts' });
    const { client } = clientWith(
      () => new Response(JSON.stringify(body), { status: 429, headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '42' } }),
    );
    const error = await client.verifyMfa({ code: '000000' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MfaProblemError);
    expect(error).toMatchObject({ status: 429, code: 'too_many_attempts', title: body.title, detail: body.detail, retryAfter: 42 });
  });

  it.each(gatewayAnswers())("reports API Gateway's %i {message} answer as the problem code of that status", async (status, message) => {
    const { client } = clientWith(() => Response.json({ message }, { status }));
    const error = await client.getMfaStatus().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status, title: message, retryAfter: undefined });
    expect(Object.entries(PROBLEMS).filter(([, problem]) => problem.status === status).map(([code]) => code)).toContain((error as MfaProblemError).code);
  });

  it('reports an answer that is neither a problem nor the gateway\'s as http_error', async () => {
    const { client } = clientWith(() => new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(client.getMfaStatus()).rejects.toMatchObject({ status: 502, code: 'http_error', title: 'Bad Gateway', detail: '' });
  });

  it('aborts a request that outlives timeoutMs', async () => {
    const client = createMfaClient({
      baseUrl: 'https://mfa.example.com',
      timeoutMs: 20,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error))),
    });
    await expect(client.getJwks()).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('passes a caller signal through', async () => {
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const client = createMfaClient({
      baseUrl: 'https://mfa.example.com',
      fetch: async (_input, init) => {
        signal = init?.signal ?? undefined;
        return Response.json({ keys: [] });
      },
    });
    await client.getJwks({ signal: controller.signal });
    controller.abort();
    expect(signal?.aborted).toBe(true);
  });
});

/** Every [status, message] that openapi.json documents as API Gateway's own answer. */
function gatewayAnswers(): Array<[number, string]> {
  const answers = new Map<number, string>();
  const responses = [
    ...Object.values(document.paths ?? {}).flatMap((item) =>
      Object.values(item ?? {})
        .filter((operation) => !isOperatorOnly(operation))
        .flatMap((operation) => Object.entries((operation as oas31.OperationObject).responses ?? {})),
    ),
    ...Object.entries(document.components?.responses ?? {}).map(([, response]) => ['404', response] as const),
  ];
  for (const [status, response] of responses) {
    const gateway = (response as oas31.ResponseObject).content?.['application/json'];
    const example = Object.values(gateway?.examples ?? {})[0] as { value: { message: string } } | undefined;
    if (gateway?.schema?.$ref === '#/components/schemas/GatewayError' && example) answers.set(Number(status), example.value.message);
  }
  expect(answers.size).toBeGreaterThanOrEqual(5);
  return [...answers];
}

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
  });

  it('reads an HTTP date as the seconds until then, rounded up', () => {
    expect(parseRetryAfter(new Date(now + 90_500).toUTCString(), now)).toBe(90);
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:01:30 GMT', now - 500)).toBe(91);
  });

  it('never answers a negative wait for a date in the past', () => {
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores a missing or unreadable header', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
