import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../../functions/http/problems.js';
import { actorOf, type HttpEvent } from '../../functions/http/request.js';
import { DEV_TOKEN_TTL_SECONDS } from '../../local/dev-identity-provider.js';
import { LOCAL_APP_AUDIENCE } from '../../local/local-stack.js';
import { startHardeningStack, type HardeningStack } from '../support/hardening-stack.js';

/** An event as API Gateway's JWT authorizer hands it over: every claim a string, an array as "[a b]". */
const eventWithClaims = (claims: Record<string, string>): HttpEvent =>
  ({
    headers: {},
    requestContext: { requestId: 'r-1', http: { sourceIp: '198.51.100.7' }, authorizer: { jwt: { claims: { sub: 'alice', sid: 's-1', ...claims }, scopes: [] } } },
  }) as unknown as HttpEvent;

describe('the first-factor audience of an actor', () => {
  const accepted = { firstFactorAudiences: ['this-app', 'https://admin.example.com'] };

  it('is the configured audience a multi-audience token carries, wherever it stands in the list', () => {
    expect(actorOf(eventWithClaims({ aud: '[some-other-app this-app]' }), accepted).audience).toBe('this-app');
    expect(actorOf(eventWithClaims({ aud: '[this-app some-other-app]' }), accepted).audience).toBe('this-app');
    expect(actorOf(eventWithClaims({ aud: 'this-app' }), accepted).audience).toBe('this-app');
  });

  it('follows the configured order when a token carries two configured audiences', () => {
    expect(actorOf(eventWithClaims({ aud: '[https://admin.example.com this-app]' }), accepted).audience).toBe('this-app');
  });

  it('is the client_id of a token without aud (Cognito access tokens), and aud decides when both are there', () => {
    expect(actorOf(eventWithClaims({ client_id: 'this-app' }), accepted).audience).toBe('this-app');
    expect(() => actorOf(eventWithClaims({ aud: 'some-other-app', client_id: 'this-app' }), accepted)).toThrow(UnauthorizedError);
  });

  it('refuses a token that carries no configured audience, and every token when none is configured', () => {
    for (const claims of [{ aud: '[some-other-app another-app]' } as Record<string, string>, { aud: 'some-other-app' }, { aud: '[]' }, { client_id: 'other' }, {}]) {
      expect(() => actorOf(eventWithClaims(claims), accepted), JSON.stringify(claims)).toThrow(UnauthorizedError);
    }
    expect(() => actorOf(eventWithClaims({ aud: 'this-app' }), { firstFactorAudiences: [] })).toThrow(UnauthorizedError);
  });
});

describe('the assertion audience over HTTP (local API Gateway stand-in, MFA_ASSERTION_AUDIENCE_MAP set)', () => {
  const MAPPED = 'https://api.example.com';
  let h: HardeningStack;
  beforeAll(async () => {
    const before = process.env.MFA_ASSERTION_AUDIENCE_MAP;
    process.env.MFA_ASSERTION_AUDIENCE_MAP = JSON.stringify({ [LOCAL_APP_AUDIENCE]: MAPPED });
    try {
      h = await startHardeningStack();
    } finally {
      if (before === undefined) delete process.env.MFA_ASSERTION_AUDIENCE_MAP;
      else process.env.MFA_ASSERTION_AUDIENCE_MAP = before;
    }
  });
  afterAll(() => h?.stop());

  const tokenWith = (sub: string, claims: Record<string, unknown>) => {
    const iat = Math.floor(Date.now() / 1000);
    return h.stack.identity.sign({ iss: h.stack.identity.issuer, sub, sid: randomUUID(), jti: randomUUID(), iat, nbf: iat, exp: iat + DEV_TOKEN_TTL_SECONDS, ...claims });
  };
  const audienceOf = (assertion: string) => JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString()).aud;

  it('names the accepted audience of a ["some-other-app", "<this app>"] token, renamed by the map, never its first entry', async () => {
    const user = await h.enrolledUser();
    const token = await tokenWith(user.sub, { aud: ['some-other-app', LOCAL_APP_AUDIENCE] });
    const verified = await h.call('POST', '/v1/mfa/verify', token, { recoveryCode: user.recoveryCodes[0] });
    expect(verified.status).toBe(200);
    expect(audienceOf(verified.json.assertion)).toBe(MAPPED);
  });

  it('names the accepted client_id of a token without aud, renamed by the map', async () => {
    const user = await h.enrolledUser();
    const token = await tokenWith(user.sub, { client_id: LOCAL_APP_AUDIENCE });
    const verified = await h.call('POST', '/v1/mfa/verify', token, { recoveryCode: user.recoveryCodes[0] });
    expect(verified.status).toBe(200);
    expect(audienceOf(verified.json.assertion)).toBe(MAPPED);
  });

  it('refuses a token of other apps only (401), spending nothing', async () => {
    const user = await h.enrolledUser();
    const token = await tokenWith(user.sub, { aud: ['some-other-app', 'another-app'] });
    expect((await h.call('POST', '/v1/mfa/verify', token, { recoveryCode: user.recoveryCodes[0] })).status).toBe(401);
    const own = await h.call('POST', '/v1/mfa/verify', await h.token(user.sub), { recoveryCode: user.recoveryCodes[0] });
    expect(own.status).toBe(200);
  });
});
