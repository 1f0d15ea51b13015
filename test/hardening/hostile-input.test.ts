import { randomUUID } from 'node:crypto';
import { METHODS } from 'node:http';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userKey } from '../../functions/adapters/aws/mfa-item.js';
import { PROBLEMS, problemFor } from '../../functions/http/problems.js';
import { actorOf, MAX_BODY_BYTES, parseBody, type HttpEvent } from '../../functions/http/request.js';
import { ROUTES, type RouteDefinition } from '../../functions/http/routes.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { snapshotTable } from '../support/table-snapshot.js';

/** Requests per property run, sent at once; runs × batch is the number of requests. */
const BATCH = 10;
const RUNS = 220;
const MIN_REQUESTS = 2_000;

let h: HardeningStack;
/** Users whose stored state must come through byte-for-byte: the fuzzer only ever sends them requests the service must refuse. */
const protectedUsers: Record<'enabled' | 'pending' | 'fresh', { sub: string; token: string }> = {} as never;
/** Stand-ins that receive the requests the service may act on (well-formed bodies), so that acting is allowed. */
const sacrificialUsers: Record<'enabled' | 'pending' | 'fresh', { sub: string; token: string }> = {} as never;
let lockedUser: { sub: string; token: string };
let sent = 0;

beforeAll(async () => {
  h = await startHardeningStack();
  for (const [users, prefix] of [[protectedUsers, 'protected'], [sacrificialUsers, 'sacrificial']] as const) {
    const enabled = await h.enrolledUser(`${prefix}-enabled-${randomUUID()}`);
    const pending = await h.startEnrollment(`${prefix}-pending-${randomUUID()}`);
    const freshSub = `${prefix}-fresh-${randomUUID()}`;
    users.enabled = enabled;
    users.pending = pending;
    users.fresh = { sub: freshSub, token: await h.token(freshSub) };
  }
  // A user with MFA and a lockout in progress (the clock stands still): it gets every request, well-formed ones too.
  lockedUser = await h.enrolledUser(`protected-locked-${randomUUID()}`);
  for (let i = 0; i < 5; i++) await h.call('POST', '/v1/mfa/verify', lockedUser.token, { code: '000000' });
});
afterAll(() => h?.stop());

// ---------- the generators ----------

const ROUTE_PATHS = [...new Set(ROUTES.map((route) => route.path))];
const FIELD_NAMES = ['code', 'recoveryCode', 'webauthn', 'credential', 'name', 'nonce'];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'userId', 'sub', 'code ', 'Code', '', '\u0000'];

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.stringMatching(/^[0-9]{6}$/),
  fc.stringMatching(/^[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}$/),
  fc.constantFrom('１２３４５６', '١٢٣٤٥٦', '12345\u0000', '\u0000', ' 123 456 ', '123456\n', '12345６', '0x1E240', '1e5', '-12345', 'ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ-ＰＱＲＳ'),
  fc.integer({ min: 60, max: 70 }).map((length) => '7'.repeat(length)),
  fc.constantFrom('\ud800', '\udfff\ud800', '\u202e123456', '<script>alert(1)</script>', "'; DROP TABLE mfa; --", '${jndi:ldap://x}', '{{7*7}}'),
);

/** Shapes of WebAuthn JSON (assertions, registrations) with hostile members. */
const hostileCredential = fc.record(
  {
    id: hostileString,
    rawId: hostileString,
    type: fc.constantFrom('public-key', 'password', ''),
    response: fc.record(
      { clientDataJSON: hostileString, authenticatorData: hostileString, signature: hostileString, attestationObject: hostileString, userHandle: hostileString },
      { requiredKeys: [] },
    ),
    clientExtensionResults: fc.constantFrom({}, { credProps: { rk: true } }, { evil: 1 }, null),
  },
  { requiredKeys: [] },
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileCredential,
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 123456, 1.5, -0, [], {}, ['123456'], { code: '123456' }),
);

const objectBody = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...FIELD_NAMES), hostileValue, { maxKeys: 2 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 })), hostileValue, { maxKeys: 2 }),
    fc.boolean(),
  )
  .map(([fields, extra, withExtra]) => JSON.stringify(withExtra ? { ...fields, ...extra } : fields));

const RAW_BODIES = [
  '{', '{"code":', '{"code":"123456",}', "{'code':'123456'}", 'NaN', '\uFEFF{"code":"123456"}', '[]', 'null', 'true', '"123456"', '123456',
  '{"code":"\\ud800"}', '{"code":"\\u0000"}', '{"code":"123456"}garbage', '{"code":"123456"}{"code":"654321"}',
  '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}', '{"code":"123456","__proto__":{"recoveryCode":"x"}}',
  '{"__proto__":null}', '{"code":"000000","code":"111111"}', '{"code":1,"code":"123456"}', '{"recoveryCode":"x","code":"123456","recoveryCode":"y"}',
  '{"code":"123456","recoveryCode":"ABCD-EFGH-JKMN-PQRS"}', `{"code":"123456"${' '.repeat(16_400)}}`, '['.repeat(8_000) + ']'.repeat(8_000),
  '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000), 'code=123456', '--x\r\nContent-Disposition: form-data; name="code"\r\n\r\n123456\r\n--x--',
];

const body: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 5, arbitrary: objectBody.map((text) => Buffer.from(text)) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...FIELD_NAMES), hostileString).map(([name, value]) => Buffer.from(JSON.stringify({ [name]: value }))) },
  { weight: 3, arbitrary: fc.constantFrom(...RAW_BODIES).map((text) => Buffer.from(text)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.integer({ min: 16_000, max: 17_500 }).map((n) => Buffer.from(JSON.stringify({ code: 'x'.repeat(n) }))) },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/problem+json', 'application/vnd.api+json', 'APPLICATION/JSON',
    'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json, text/html', '',
    'application/json;', 'application/jsonx', 'application/xml', 'text/json',
  ) },
);

const odderPath = fc.oneof(
  fc.tuple(fc.constantFrom(...ROUTE_PATHS), fc.constantFrom('/', '//', '?x=1', '?userId=someone', '/..', '%00', '/%2e%2e', '.json', '?__proto__[polluted]=1', ';jsessionid=1')).map(([p, s]) => p + s),
  fc.constantFrom('/v1', '/v1/', '/V1/MFA', '/v1/mfa/totp', '/v1/admin/users', '/v1/mfa/totp/enrollment/confirm/extra', '/v1/%ZZ', '/v1/mfa%2fverify', '/.well-known/'),
  fc.webSegment().map((segment) => `/v1/mfa/${segment}`),
);

/** Every method Node's HTTP parser knows, but CONNECT (a tunnel, which API Gateway does not route). */
const anyMethod = fc.constantFrom(...METHODS.filter((name) => name !== 'CONNECT'));

/** Mostly the routes as they are meant to be called, so that most requests reach a handler; the rest anywhere, any how. */
const target = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ROUTES).map((route) => ({ method: route.method as string, path: route.path as string })) },
  { weight: 2, arbitrary: fc.record({ method: anyMethod, path: fc.constantFrom(...ROUTE_PATHS) }) },
  { weight: 2, arbitrary: fc.record({ method: fc.constantFrom('GET', 'POST'), path: odderPath }) },
);

type Who = 'enabled' | 'pending' | 'fresh' | 'locked' | 'anonymous' | 'forged';
const who = fc.constantFrom<Who>('enabled', 'pending', 'fresh', 'enabled', 'pending', 'fresh', 'enabled', 'pending', 'fresh', 'locked', 'anonymous', 'forged');
const forgedToken = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~+/-]{0,200}=*$/), fc.constant('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'));

const fuzzCase = fc.record({ target, who, contentType, body, forged: forgedToken }).map(({ target: { method, path }, ...rest }) => ({ method, path, ...rest }));
type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;

// ---------- the oracle ----------

function routeOf(fuzz: FuzzCase): RouteDefinition | undefined {
  const pathname = new URL(fuzz.path, 'http://localhost').pathname;
  return ROUTES.find((route) => route.path === pathname && route.method === fuzz.method);
}

/**
 * Whether the service may act on the request: a protected route and a body its schema accepts
 * (whatever the content type or size). Over-approximates on purpose: such requests go to the
 * sacrificial users, so a protected user only ever gets requests the service must refuse.
 */
function mayAct(fuzz: FuzzCase): boolean {
  const route = routeOf(fuzz);
  if (!route || route.auth !== 'first-factor' || !route.request) return false;
  const text = fuzz.body?.toString('utf8') ?? '';
  let value: unknown = {};
  if (text.trim().length > 0) {
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
  }
  return route.request.safeParse(value).success;
}

function authorization(fuzz: FuzzCase): string | undefined {
  if (fuzz.who === 'anonymous') return undefined;
  if (fuzz.who === 'forged') return `Bearer ${fuzz.forged}`;
  if (fuzz.who === 'locked') return `Bearer ${lockedUser.token}`;
  return `Bearer ${(mayAct(fuzz) ? sacrificialUsers : protectedUsers)[fuzz.who].token}`;
}

/** A schema check's sentences (functions/http/schema-words.ts): a path the schema knows, then its words. */
const SCHEMA_SENTENCE = String.raw`(?:(?:The body|body(?:\.\w+)+) [\w ",'-]+|Send exactly one of code, recoveryCode, webauthn or emailCode(?:, and optionally nonce| \(or \{\} while MFA is off\))?|Send exactly one of code, recoveryCode, webauthn, emailCode or device, and optionally nonce \(and, with a code, recoveryCode, webauthn or emailCode, rememberDevice\))\.`;
const SCHEMA_DETAIL = new RegExp(`^(?:The body is not valid JSON\\.|${SCHEMA_SENTENCE}(?: ${SCHEMA_SENTENCE})*)$`);
const KNOWN_DETAILS = new Set(Object.values(PROBLEMS).map((problem) => problem.detail));

function expectAcceptableResponse(fuzz: FuzzCase, response: RawResponse) {
  const label = `${fuzz.method} ${fuzz.path} as ${fuzz.who}: ${response.status} ${response.text.slice(0, 200)}`;
  expect(response.status, label).toBeGreaterThanOrEqual(200);
  expect(response.status, label).toBeLessThan(500);
  const route = routeOf(fuzz);
  if (response.status < 300) {
    expect(route, label).toBeDefined();
    expect(response.status, label).toBe(route!.successStatus);
    expect(response.headers['content-type'], label).toBe('application/json');
    expect(route!.response.safeParse(response.json).success, label).toBe(true);
    return;
  }
  expect(response.headers['content-type'], label).toBe('application/problem+json');
  if (fuzz.method === 'HEAD') return;
  const { code, detail, ...rest } = response.json;
  expect(Object.keys(PROBLEMS), label).toContain(code);
  expect(rest, label).toEqual({ type: `urn:serverless-mfa:problem:${code}`, title: PROBLEMS[code as keyof typeof PROBLEMS].title, status: response.status });
  // Details are the table's words, or the schema check's paths and words: never what was sent.
  if (!KNOWN_DETAILS.has(detail)) expect(detail, label).toMatch(SCHEMA_DETAIL);
  if (response.status === 405) expect(response.headers.allow, label).toBeDefined();
  if (response.status === 401) expect(response.headers['www-authenticate'], label).toBe('Bearer');
}

async function send(fuzz: FuzzCase): Promise<RawResponse> {
  const auth = authorization(fuzz);
  sent += 1;
  return rawRequest(h.stack.port, {
    method: fuzz.method,
    path: fuzz.path,
    headers: { ...(auth ? { authorization: auth } : {}), ...(fuzz.contentType !== undefined ? { 'content-type': fuzz.contentType } : {}) },
    ...(fuzz.body ? { body: fuzz.body } : {}),
  });
}

/** Lifts any lockout on the sacrificial users, so that their code checks keep being evaluated rather than refused. */
async function unlockSacrificialUsers() {
  for (const { sub } of Object.values(sacrificialUsers)) {
    await h.client.send(
      new UpdateItemCommand({
        TableName: h.tableName,
        Key: userKey(sub),
        UpdateExpression: 'SET failures = :zero REMOVE lockedUntil',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':zero': { N: '0' } },
      }),
    ).catch(() => {});
  }
}

/**
 * What a locked user's item may show after well-formed recovery codes or key responses: a code
 * lockout does not refuse them, so each takes a slot of the rate windows (the session's and the user's ceiling; and writes, so the
 * write id and outbox turn over). Everything else must stay byte for byte.
 */
const RATE_WINDOW_ATTRIBUTES = new Set(['proofTimes', 'sessions', 'lastWriteId', 'outbox']);

async function protectedSnapshot(): Promise<string> {
  const sacrificial = Object.values(sacrificialUsers).map(({ sub }) => `"USER#${sub}"`);
  return (await snapshotTable(h.client, h.tableName))
    .split('\n')
    .filter((line) => !sacrificial.some((key) => line.includes(key)))
    .map((line) => (line === '' ? line : JSON.stringify((JSON.parse(line) as Array<[string, unknown]>).filter(([name]) => !RATE_WINDOW_ATTRIBUTES.has(name)))))
    .join('\n');
}

describe('hostile input through the HTTP layer (fast-check)', () => {
  it(`answers ${MIN_REQUESTS}+ generated hostile requests on every route with a 4xx problem or the route's success, never a 5xx, and leaves stored state byte-for-byte unchanged`, async () => {
    const before = await protectedSnapshot();
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzCase, { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        await unlockSacrificialUsers();
        const responses = await Promise.all(cases.map(send));
        cases.forEach((fuzz, i) => expectAcceptableResponse(fuzz, responses[i]!));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(await protectedSnapshot()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  }, 180_000);
});

describe('hostile input at the HTTP edge functions (fast-check)', () => {
  const eventArb = fc.record({
    body: fc.option(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom(...RAW_BODIES),
        fc.json(),
        fc.integer({ min: MAX_BODY_BYTES - 40, max: MAX_BODY_BYTES + 40 }).map((size) => `{"code":"123456"${' '.repeat(Math.max(0, size - 18))}}`),
      ),
      { nil: undefined },
    ),
    isBase64Encoded: fc.boolean(),
    headers: fc.option(
      fc.oneof(
        fc.constantFrom({ 'content-type': 'application/json' }, { 'Content-Type': 'application/json; charset=utf-8' }),
        fc.dictionary(fc.constantFrom('content-type', 'Content-Type', 'CONTENT-TYPE', 'x-other'), fc.string({ maxLength: 60 })),
      ),
      { nil: undefined },
    ),
    claims: fc.option(fc.dictionary(fc.constantFrom('sub', 'email', 'iss', 'aud', 'client_id', '__proto__'), fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('this-app', '[other-app this-app]', '[]', '[ ]'), fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<unknown>)), { nil: undefined }),
  });

  it('parses any API Gateway event into a valid request or a 4xx problem: payload 2.0 shapes the local server never makes (base64 bodies, no headers, odd claims)', () => {
    fc.assert(
      fc.property(eventArb, fc.constantFrom(...(ROUTES as readonly RouteDefinition[]).filter((route) => route.request)), (shape, route) => {
        const event = {
          version: '2.0',
          routeKey: `${route.method} ${route.path}`,
          rawPath: route.path,
          rawQueryString: '',
          ...(shape.headers ? { headers: shape.headers } : {}),
          ...(shape.body !== undefined ? { body: shape.body } : {}),
          isBase64Encoded: shape.isBase64Encoded,
          requestContext: {
            requestId: 'fuzz',
            http: { method: route.method, path: route.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'fuzz' },
            ...(shape.claims ? { authorizer: { jwt: { claims: shape.claims, scopes: [] } } } : {}),
          },
        } as unknown as HttpEvent;
        const raw = event.body ?? '';
        const oversized = Buffer.byteLength(event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw, 'utf8') > MAX_BODY_BYTES;
        const steps = [() => actorOf(event, { firstFactorAudiences: ['this-app'] }), () => parseBody(event, route.request!)];
        for (const step of steps) {
          try {
            step();
            expect(step === steps[1] && oversized, 'a body over 16 KB is never parsed').toBe(false);
          } catch (error) {
            const { code } = problemFor(error);
            expect(PROBLEMS[code].status, `${(error as Error).name}: ${(error as Error).message}`).toBeGreaterThanOrEqual(400);
            expect(PROBLEMS[code].status).toBeLessThan(500);
          }
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
