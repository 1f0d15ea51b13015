import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemBody } from '../../functions/http/problems.js';
import { ROUTES } from '../../functions/http/routes.js';
import { DEV_IDENTITY_KEY_FILE, DEV_TOKEN_TTL_SECONDS } from '../../local/dev-identity-provider.js';
import { LOCAL_APP_AUDIENCE, startLocalStack } from '../../local/local-stack.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { startHardeningStack, type EnrolledUser, type HardeningStack } from '../support/hardening-stack.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';
import { snapshotTable } from '../support/table-snapshot.js';

let h: HardeningStack;
let victim: EnrolledUser;
let issuerJwk: JWK;

beforeAll(async () => {
  h = await startHardeningStack();
  victim = await h.enrolledUser();
  h.clock.advance(30_000);
  issuerJwk = ((await h.stack.identity.jwks()) as JWK[])[0]!;
});
afterAll(() => h?.stop());

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
const claimsFor = (sub: string, overrides: Record<string, unknown> = {}) => ({
  iss: h.stack.identity.issuer,
  aud: LOCAL_APP_AUDIENCE,
  sub,
  iat: nowSeconds(),
  nbf: nowSeconds(),
  exp: nowSeconds() + DEV_TOKEN_TTL_SECONDS,
  ...overrides,
});

/** Signs with the real identity provider's RSA key (from its data-directory key file), with any claims, header and algorithm. */
async function signedByIssuer(claims: Record<string, unknown>, header: Record<string, unknown> = {}, alg = 'RS256'): Promise<string> {
  const privateJwk = JSON.parse(await readFile(join(h.dataDir, DEV_IDENTITY_KEY_FILE), 'utf8')) as JWK;
  const key = await importJWK(privateJwk, alg);
  const protectedHeader: Record<string, unknown> = { alg, typ: 'JWT', kid: issuerJwk.kid!, ...header };
  for (const [name, value] of Object.entries(protectedHeader)) if (value === undefined) delete protectedHeader[name];
  return new SignJWT(claims).setProtectedHeader(protectedHeader as { alg: string }).sign(key);
}

/** Every token API Gateway's JWT authorizer refuses, each aimed at the victim. */
async function forgedTokens(): Promise<Array<[string, string | undefined]>> {
  const victimClaims = claimsFor(victim.sub);
  const genuine = await signedByIssuer(victimClaims);
  const [header, , signature] = genuine.split('.');
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const publicKeyPem = Buffer.from(JSON.stringify(issuerJwk));
  const hs256 = (secret: Buffer) => {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: issuerJwk.kid })}.${b64url(victimClaims)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const spkiPem = Buffer.from(createPublicKey({ key: issuerJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));
  return [
    ['missing', undefined],
    ['empty bearer', ''],
    ['not a JWT', 'not-a-token'],
    ['two segments', `${header}.${b64url(victimClaims)}`],
    ['garbage segments', 'aaaa.bbbb.cccc'],
    ['expired', await signedByIssuer(claimsFor(victim.sub, { iat: nowSeconds() - 7200, nbf: nowSeconds() - 7200, exp: nowSeconds() - 3600 }))],
    ['not yet valid', await signedByIssuer(claimsFor(victim.sub, { nbf: nowSeconds() + 3600, exp: nowSeconds() + 7200 }))],
    ['wrong issuer', await signedByIssuer(claimsFor(victim.sub, { iss: 'https://evil.example.com/dev' }))],
    ['wrong audience', await signedByIssuer(claimsFor(victim.sub, { aud: 'some-other-app' }))],
    ['no expiry', await signedByIssuer(claimsFor(victim.sub, { exp: undefined }))],
    ['no subject', await signedByIssuer(claimsFor(victim.sub, { sub: undefined }))],
    ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(victimClaims)}.`],
    ['alg none with the real kid', `${b64url({ alg: 'none', typ: 'JWT', kid: issuerJwk.kid })}.${b64url(victimClaims)}.`],
    ['HS256 keyed with the public JWK', hs256(publicKeyPem)],
    ['HS256 keyed with the public PEM', hs256(spkiPem)],
    ['unknown kid', await new SignJWT(victimClaims).setProtectedHeader({ alg: 'ES256', kid: 'unknown-key-id' }).sign(otherKey)],
    ['the real kid, another key', await new SignJWT(victimClaims).setProtectedHeader({ alg: 'ES256', kid: issuerJwk.kid! }).sign(otherKey)],
    ['a valid token with its claims swapped', `${header}.${b64url(claimsFor(`${victim.sub}-admin`))}.${signature}`],
    ['a valid token with its signature cut', `${header}.${b64url(victimClaims)}.`],
    ['ES256 key embedded in the header (jwk)', await new SignJWT(victimClaims).setProtectedHeader({ alg: 'ES256', jwk: await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey) }).sign(otherKey)],
    // What the HTTP API JWT authorizer refuses beyond a bad signature: it verifies RSA only, needs a kid, and checks client_id only without aud.
    ['the real key and kid, another algorithm (PS256)', await signedByIssuer(victimClaims, {}, 'PS256')],
    ['the real key and kid, another algorithm (RS512)', await signedByIssuer(victimClaims, {}, 'RS512')],
    ['the real key, no kid', await signedByIssuer(victimClaims, { kid: undefined })],
    ['the real key, an empty kid', await signedByIssuer(victimClaims, { kid: '' })],
    ['no aud, client_id of another app', await signedByIssuer(claimsFor(victim.sub, { aud: undefined, client_id: 'some-other-app' }))],
    ['another aud, the right client_id (aud decides)', await signedByIssuer(claimsFor(victim.sub, { aud: 'some-other-app', client_id: LOCAL_APP_AUDIENCE }))],
    ['neither aud nor client_id', await signedByIssuer(claimsFor(victim.sub, { aud: undefined }))],
  ];
}

function expectUnauthorized(response: RawResponse, label: string) {
  expect(response.status, label).toBe(401);
  expect(response.headers['content-type']).toBe('application/problem+json');
  expect(response.headers['www-authenticate']).toBe('Bearer');
  expect(response.json).toEqual(problemBody({ code: 'unauthorized' }));
}

/** A request per first-factor route that would change or reveal the victim's state if it got through. */
/** Every protected route, aimed at the victim: their codes in the body, their authenticator's id in the path. */
function requestsAgainstVictim(victimAuthenticatorId = 'Jq3r8mZt0aXk2Vb9'): Array<{ method: string; path: string; body?: unknown }> {
  const bodies: Record<string, unknown> = {
    startTotpEnrollment: {},
    confirmTotpEnrollment: { code: codeAt(victim.secret, h.clock) },
    verifyMfa: { recoveryCode: victim.recoveryCodes[0] },
    regenerateRecoveryCodes: { recoveryCode: victim.recoveryCodes[1] },
    disableTotp: { recoveryCode: victim.recoveryCodes[2] },
    startWebAuthnRegistration: {},
    startWebAuthnChallenge: {},
    renameAuthenticator: { name: 'taken over' },
    removeAuthenticator: { recoveryCode: victim.recoveryCodes[3] },
  };
  return ROUTES.filter((route) => route.auth === 'first-factor').map((route) => ({
    method: route.method,
    path: route.path.replace('{id}', victimAuthenticatorId),
    body: bodies[route.id],
  }));
}

describe('first-factor authentication at the API Gateway stand-in', () => {
  it('answers 401 to every forged, expired, misdirected or malformed token on every protected route, and changes nothing', async () => {
    const before = await snapshotTable(h.client, h.tableName);
    const tokens = await forgedTokens();
    expect(tokens.length).toBeGreaterThanOrEqual(27);
    for (const [label, token] of tokens) {
      for (const request of requestsAgainstVictim()) {
        const response = await rawRequest(h.stack.port, {
          method: request.method,
          path: request.path,
          headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
          ...(request.body ? { body: JSON.stringify(request.body) } : {}),
        });
        expectUnauthorized(response, `${label}: ${request.method} ${request.path}`);
      }
    }
    for (const scheme of ['Basic dmljdGltOnB3', 'bearer x.y.z', `Token ${await h.token(victim.sub)}`, `Bearer ${await h.token(victim.sub)} trailing`]) {
      expectUnauthorized(await rawRequest(h.stack.port, { method: 'GET', path: '/v1/mfa', headers: { authorization: scheme } }), scheme);
    }
    expect(await snapshotTable(h.client, h.tableName)).toBe(before);
  });

  it('lets a genuine token through, so that the refusals above are the tokens\' doing', async () => {
    const response = await h.call('GET', '/v1/mfa', await signedByIssuer(claimsFor(victim.sub)));
    expect(response.status).toBe(200);
    expect(response.json.mfaEnabled).toBe(true);
  });

  it('lets an access token through that names the app in client_id and has no aud (as Cognito access tokens do)', async () => {
    const accessToken = await signedByIssuer(claimsFor(victim.sub, { aud: undefined, client_id: LOCAL_APP_AUDIENCE, scope: 'openid email' }));
    expect((await h.call('GET', '/v1/mfa', accessToken)).status).toBe(200);
    expect((await h.call('GET', '/v1/mfa', await signedByIssuer(claimsFor(victim.sub, { aud: [LOCAL_APP_AUDIENCE, 'another-app'] })))).status).toBe(200);
  });

  it('hands array claims to the function as the JWT authorizer does ("[a b]"), so the assertion names the accepted audience wherever it stands', async () => {
    const user = await h.enrolledUser();
    for (const [index, aud] of [[LOCAL_APP_AUDIENCE, 'another-app'], ['some-other-app', LOCAL_APP_AUDIENCE]].entries()) {
      const token = await signedByIssuer(claimsFor(user.sub, { aud }));
      const verified = await h.call('POST', '/v1/mfa/verify', token, { recoveryCode: user.recoveryCodes[index] });
      expect(verified.status).toBe(200);
      expect(JSON.parse(Buffer.from(verified.json.assertion.split('.')[1], 'base64url').toString()).aud).toBe(LOCAL_APP_AUDIENCE);
    }
  });

  it('issues RS256 tokens with the thumbprint kid of the RSA key it publishes', async () => {
    const [header] = (await h.token(victim.sub)).split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: issuerJwk.kid });
    expect(issuerJwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(issuerJwk).not.toHaveProperty('d');
  });
});

describe('route scopes at the API Gateway stand-in', () => {
  it('refuses a token without one of the scopes a route is configured with, and passes the matched token\'s scopes on', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mfa-scopes-'));
    const stack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: `mfa-scopes-${randomUUID()}`, routeScopes: { getMfaStatus: ['mfa/manage', 'admin'] } });
    try {
      const now = nowSeconds();
      const access = (claims: Record<string, unknown>) => stack.identity.sign({ iss: stack.identity.issuer, client_id: LOCAL_APP_AUDIENCE, sub: 'scoped-user', iat: now, exp: now + 600, ...claims });
      const status = async (token: string) => (await rawRequest(stack.port, { method: 'GET', path: '/v1/mfa', headers: { authorization: `Bearer ${token}` } })).status;
      expect(await status(await access({}))).toBe(401);
      expect(await status(await access({ scope: 'openid email' }))).toBe(401);
      expect(await status(await access({ scope: 'mfa/manage-all' }))).toBe(401);
      expect(await status(await access({ scope: 'openid mfa/manage' }))).toBe(200);
      expect(await status(await access({ scp: ['admin'] }))).toBe(200);
      // A route without configured scopes needs none.
      const enrollment = await rawRequest(stack.port, { method: 'POST', path: '/v1/mfa/totp/enrollment', headers: { authorization: `Bearer ${await access({})}`, 'content-type': 'application/json' }, body: '{}' });
      expect(enrollment.status).toBe(201);
    } finally {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the local identity provider key', () => {
  it('is created once as a 0600 RSA key file and kept across restarts: a token from before a restart still verifies', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mfa-idp-key-'));
    const options = { dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: `mfa-idp-key-${randomUUID()}` };
    try {
      const first = await startLocalStack(options);
      const token = await first.identity.issueToken({ sub: 'restarted' });
      const kid = (await first.identity.jwks())[0]!.kid;
      await first.stop();
      expect((await stat(join(dataDir, DEV_IDENTITY_KEY_FILE))).mode & 0o777).toBe(0o600);
      // As `npm start` restarts: same data directory, same port (the issuer URL contains it).
      const second = await startLocalStack({ ...options, port: first.port });
      try {
        expect((await second.identity.jwks())[0]!.kid).toBe(kid);
        expect((await rawRequest(second.port, { method: 'GET', path: '/v1/mfa', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Host checking at the local server', () => {
  const misdirectedHosts = (port: number) => ['evil.example', `evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`, 'localhost', `localhost:${port + 1}`, `[::1]:${port}`, `0.0.0.0:${port}`];

  it('answers 421 misdirected_request to a request addressed to any other host name, on every kind of route, and changes nothing', async () => {
    const before = await snapshotTable(h.client, h.tableName);
    const token = await h.token(victim.sub);
    for (const host of misdirectedHosts(h.stack.port)) {
      for (const [method, path, body] of [
        ['GET', '/v1/mfa'],
        ['POST', '/v1/mfa/verify', JSON.stringify({ recoveryCode: victim.recoveryCodes[3] })],
        ['POST', '/dev/token', '{"sub":"rebound"}'],
        ['GET', '/.well-known/jwks.json'],
        ['GET', '/'],
      ] as const) {
        const response = await rawRequest(h.stack.port, { method, path, headers: { host, authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body } : {}) });
        const label = `${host} ${method} ${path}`;
        expect(response.status, label).toBe(421);
        expect(response.headers['content-type'], label).toBe('application/problem+json');
        expect(response.json, label).toEqual(problemBody({ code: 'misdirected_request' }));
      }
    }
    expect(await snapshotTable(h.client, h.tableName)).toBe(before);
  });

  it('answers requests addressed to localhost or 127.0.0.1 with its port', async () => {
    const token = await h.token(victim.sub);
    for (const host of [`localhost:${h.stack.port}`, `127.0.0.1:${h.stack.port}`]) {
      expect((await rawRequest(h.stack.port, { method: 'GET', path: '/v1/mfa', headers: { host, authorization: `Bearer ${token}` } })).status, host).toBe(200);
    }
  });
});

describe('isolation between users', () => {
  it("never lets one user's token read or change another user's state, whatever the body says", async () => {
    const malloryId = `mallory-${randomUUID()}`;
    const mallory = await h.token(malloryId);
    const before = await snapshotTable(h.client, h.tableName);
    const victimItemBefore = before.split('\n').find((line) => line.includes(`USER#${victim.sub}"`));
    expect(victimItemBefore).toBeDefined();

    const status = await h.call('GET', '/v1/mfa', mallory);
    expect(status.json).toEqual({
      mfaEnabled: false,
      methods: { totp: { enabled: false, enrolledAt: null, lastUsedAt: null, count: 0 }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } },
      recoveryCodes: { remaining: 0 },
      authenticators: [],
      devices: [],
    });
    const victimAuthenticatorId = (await h.call('GET', '/v1/mfa', victim.token)).json.authenticators[0].id as string;
    const probes = [
      ...requestsAgainstVictim(victimAuthenticatorId),
      { method: 'POST', path: '/v1/mfa/verify', body: { code: codeAt(victim.secret, h.clock), userId: victim.sub } },
      { method: 'POST', path: '/v1/mfa/verify', body: { code: codeAt(victim.secret, h.clock), sub: victim.sub } },
      { method: 'POST', path: '/v1/mfa/totp/disable', body: { code: codeAt(victim.secret, h.clock) } },
      { method: 'POST', path: '/v1/mfa/recovery-codes', body: { code: codeAt(victim.secret, h.clock, 1) } },
      { method: 'GET', path: `/v1/mfa?userId=${victim.sub}` },
      { method: 'GET', path: `/v1/mfa?sub=${victim.sub}` },
    ];
    for (const probe of probes) {
      const label = `${probe.method} ${probe.path} ${JSON.stringify(probe.body)}`;
      const response = await h.call(probe.method, probe.path, mallory, probe.body);
      expect(response.text, label).not.toContain(victim.sub);
      for (const code of victim.recoveryCodes) expect(response.text, label).not.toContain(code);
      if (probe.method === 'GET') {
        // Mallory's own state, whatever the query says.
        expect(response.json, label).toEqual(status.json);
      } else if (probe.path === '/v1/mfa/totp/enrollment') {
        expect(response.status, label).toBe(201); // her own enrollment, under her own name
        expect(decodeURIComponent(response.json.otpauthUri), label).toContain(malloryId);
      } else if (probe.path === '/v1/mfa/webauthn/registration') {
        expect(response.status, label).toBe(201); // her own registration, under her own name
        expect(response.json.options.user.name, label).toContain(malloryId);
      } else if (probe.path === '/v1/mfa/devices/forget-all') {
        // Takes no proof and names no user: it forgets Mallory's own remembered browsers (none).
        expect(response.status, label).toBe(200);
        expect(response.json, label).toEqual({ devices: [] });
      } else {
        // Refused: the victim's codes are not Mallory's, and her body cannot name another user.
        expect([400, 404, 409], label).toContain(response.status);
      }
    }
    const after = await snapshotTable(h.client, h.tableName);
    expect(after.split('\n').find((line) => line.includes(`USER#${victim.sub}"`))).toBe(victimItemBefore);
    // The victim's own factors still work: nothing of theirs was spent or replaced.
    h.clock.advance(30_000);
    expect((await h.call('POST', '/v1/mfa/verify', victim.token, { code: codeAt(victim.secret, h.clock) })).status).toBe(200);
    expect((await h.call('POST', '/v1/mfa/verify', victim.token, { recoveryCode: victim.recoveryCodes[0] })).json.recoveryCodesRemaining).toBe(9);
  });
});
