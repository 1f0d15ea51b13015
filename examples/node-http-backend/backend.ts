/**
 * An app backend on plain node:http whose sensitive route needs a fresh MFA assertion.
 *
 * 1. POST /session {idToken}: the first factor. The backend checks the identity provider's token,
 *    starts a session (HttpOnly cookie) and answers a nonce for this sign-in.
 * 2. The web client sends that nonce with POST /v1/mfa/verify and gets an assertion back.
 * 3. POST /transfers with header `MFA-Assertion`: the backend checks the assertion is fresh, for
 *    this app, for this session's user, for this sign-in (the nonce), and not used before; and, as
 *    moving money is sensitive, that a factor was proven for it (not a remembered browser) at most
 *    2 minutes ago. If not, it answers 401 with an RFC 9470 step-up challenge in WWW-Authenticate.
 *
 * Run it: MFA_ISSUER=http://localhost:3000 APP_AUDIENCE=serverless-mfa-local-app \
 *   IDP_ISSUER=http://localhost:3000/dev IDP_JWKS_URL=http://localhost:3000/dev/jwks.json \
 *   npx tsx examples/node-http-backend/backend.ts
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createMemoryReplayCache, createMfaVerifier, MfaAssertionError, stepUpChallenge, type MfaAssertionFailure, type ReplayCache } from 'serverless-mfa/verifier';

export interface BackendOptions {
  /** The MFA service's issuer URL (its API URL). */
  mfaIssuer: string;
  /** This app's client id: the audience of its first-factor tokens, and so of its assertions. */
  audience: string;
  /** The identity provider that signs the first-factor tokens. */
  identityIssuer: string;
  identityJwksUrl: string;
  /** One process: memory. Several: `createDynamoDbReplayCache` from `serverless-mfa/verifier/dynamodb-replay-cache`. */
  replayCache?: ReplayCache;
}

interface Session {
  userId: string;
  /** Issued at sign-in; an assertion for this session must carry it. */
  mfaNonce: string;
}

/** How long after the second step an assertion is still good for a sensitive action, and how long ago its factor may have been proven. */
const MFA_MAX_AGE_SECONDS = 120;

/** Refusals a new second step can cure: answered with a step-up challenge rather than as a bad request. */
const STEP_UP_REASONS: readonly MfaAssertionFailure[] = ['not_fresh', 'auth_too_old', 'not_phishing_resistant'];

export function createBackend(options: BackendOptions): Server {
  const sessions = new Map<string, Session>();
  const identityKeys = createRemoteJWKSet(new URL(options.identityJwksUrl));
  const mfa = createMfaVerifier({ issuer: options.mfaIssuer, audience: options.audience, replayCache: options.replayCache ?? createMemoryReplayCache() });

  async function signIn(request: IncomingMessage, response: ServerResponse) {
    const { idToken } = (await readJson(request)) as { idToken?: unknown };
    let userId: string | undefined;
    try {
      const { payload } = await jwtVerify(String(idToken), identityKeys, { issuer: options.identityIssuer, audience: options.audience, algorithms: ['RS256'] });
      userId = payload.sub;
    } catch {
      userId = undefined;
    }
    if (!userId) return json(response, 401, { error: 'sign_in_failed' });
    const sessionId = randomBytes(32).toString('base64url');
    const session = { userId, mfaNonce: randomBytes(24).toString('base64url') };
    sessions.set(sessionId, session);
    json(response, 201, { mfaNonce: session.mfaNonce }, { 'Set-Cookie': `sid=${sessionId}; HttpOnly; SameSite=Strict; Path=/` });
  }

  async function transfer(request: IncomingMessage, response: ServerResponse) {
    const session = sessions.get(cookie(request, 'sid') ?? '');
    if (!session) return json(response, 401, { error: 'sign_in_required' });
    const assertion = request.headers['mfa-assertion'];
    if (typeof assertion !== 'string') {
      return json(response, 401, { error: 'mfa_required', mfaNonce: session.mfaNonce }, { 'WWW-Authenticate': stepUpChallenge({ reason: 'mfa_required', maxAge: MFA_MAX_AGE_SECONDS }) });
    }
    try {
      const claims = await mfa.verify(assertion, {
        nonce: session.mfaNonce,
        subject: session.userId,
        maxAgeSeconds: MFA_MAX_AGE_SECONDS,
        require: 'fresh',
        maxAuthAgeSeconds: MFA_MAX_AGE_SECONDS,
      });
      const body = (await readJson(request)) as { amount?: unknown };
      json(response, 200, { transferred: body.amount, by: claims.sub, amr: claims.amr });
    } catch (error) {
      // The reason is for the log and for the client to know what to redo; a refused assertion is never retried as is.
      if (error instanceof MfaAssertionError && STEP_UP_REASONS.includes(error.reason)) {
        // RFC 9470: the client runs the second step again (a factor now, not the remembered browser) and retries.
        const challenge = stepUpChallenge({ reason: error.reason, maxAge: MFA_MAX_AGE_SECONDS });
        return json(response, 401, { error: 'step_up_required', reason: error.reason, mfaNonce: session.mfaNonce }, { 'WWW-Authenticate': challenge });
      }
      if (error instanceof MfaAssertionError) return json(response, 403, { error: 'mfa_refused', reason: error.reason });
      json(response, 503, { error: 'try_again' });
    }
  }

  return createServer((request, response) => {
    const route = `${request.method} ${new URL(request.url ?? '/', 'http://backend').pathname}`;
    const handler = route === 'POST /session' ? signIn : route === 'POST /transfers' ? transfer : undefined;
    if (!handler) return json(response, 404, { error: 'not_found' });
    handler(request, response).catch(() => json(response, 400, { error: 'bad_request' }));
  });
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(/;\s*/)) {
    const [key, ...value] = part.split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 16_384) throw new Error('Body too large.');
  }
  return text ? JSON.parse(text) : {};
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (response.headersSent) return;
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = (name: string) => process.env[name] ?? (() => { throw new Error(`Set ${name}.`); })();
  const port = Number(process.env.PORT ?? 4000);
  createBackend({ mfaIssuer: env('MFA_ISSUER'), audience: env('APP_AUDIENCE'), identityIssuer: env('IDP_ISSUER'), identityJwksUrl: env('IDP_JWKS_URL') }).listen(port, '127.0.0.1', () =>
    console.log(`example backend on http://127.0.0.1:${port}`),
  );
}
