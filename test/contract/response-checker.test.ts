import { describe, expect, it } from 'vitest';
import { problemBody, type ProblemCode } from '../../functions/http/problems.js';
import { createCheckedFetch, expectDocumentedResponse } from '../support/api.js';
import { committedContract, ContractViolationError, type ObservedResponse } from '../support/openapi-contract.js';

const contract = committedContract();

const STATUS_BODY = {
  mfaEnabled: false,
  methods: { totp: { enabled: false, enrolledAt: null, lastUsedAt: null, count: 0 }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } },
  recoveryCodes: { remaining: 0 },
  authenticators: [],
  devices: [],
};

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Pick<ObservedResponse, 'status' | 'headers' | 'body'> {
  return { status, headers: new Headers({ 'Content-Type': 'application/json', ...headers }), body: JSON.stringify(body) };
}

function problem(code: ProblemCode, headers: Record<string, string> = {}): Pick<ObservedResponse, 'status' | 'headers' | 'body'> {
  const body = problemBody({ code });
  return { status: body.status, headers: new Headers({ 'Content-Type': 'application/problem+json', ...headers }), body: JSON.stringify(body) };
}

describe('response checker', () => {
  it('accepts a documented response', () => {
    expect(contract.responseViolations({ method: 'GET', path: '/v1/mfa', ...json(STATUS_BODY) })).toEqual([]);
  });

  it('refuses an undocumented field', () => {
    const violations = contract.responseViolations({ method: 'GET', path: '/v1/mfa', ...json({ ...STATUS_BODY, secret: 'JBSWY3DP' }) });
    expect(violations.join('\n')).toMatch(/additional properties.*secret/s);
  });

  it('refuses a missing field and a wrong type', () => {
    const { recoveryCodes: _omitted, ...missing } = STATUS_BODY;
    expect(contract.responseViolations({ method: 'GET', path: '/v1/mfa', ...json(missing) }).join('\n')).toMatch(/recoveryCodes/);
    expect(contract.responseViolations({ method: 'GET', path: '/v1/mfa', ...json({ ...STATUS_BODY, mfaEnabled: 'no' }) }).join('\n')).toMatch(/boolean/);
  });

  it('refuses an undocumented status', () => {
    expect(contract.responseViolations({ method: 'GET', path: '/v1/mfa', ...json(STATUS_BODY, 202) })).toEqual([
      expect.stringMatching(/status 202 is not documented for GET \/v1\/mfa/),
    ]);
  });

  it('refuses a problem code the operation does not document for that status', () => {
    // 409 is documented for verify, but as mfa_not_enabled only.
    const violations = contract.responseViolations({ method: 'POST', path: '/v1/mfa/verify', ...problem('totp_already_enabled') });
    expect(violations.join('\n')).toMatch(/code must be equal to one of the allowed values/);
  });

  it('refuses the wrong content type', () => {
    const body = problemBody({ code: 'invalid_code' });
    const violations = contract.responseViolations({ method: 'POST', path: '/v1/mfa/verify', ...json(body, 400) });
    expect(violations).toEqual([expect.stringMatching(/content type application\/json is not documented/)]);
  });

  it('requires an integer Retry-After on 429', () => {
    expect(contract.responseViolations({ method: 'POST', path: '/v1/mfa/verify', ...problem('too_many_attempts', { 'Retry-After': '30' }) })).toEqual([]);
    expect(contract.responseViolations({ method: 'POST', path: '/v1/mfa/verify', ...problem('too_many_attempts') })).toEqual([
      'required header Retry-After is missing',
    ]);
    expect(contract.responseViolations({ method: 'POST', path: '/v1/mfa/verify', ...problem('too_many_attempts', { 'Retry-After': 'soon' }) })).not.toEqual([]);
  });

  it('expects 404 not_found for a path outside the document and 405 method_not_allowed with Allow for a wrong method', () => {
    expect(contract.responseViolations({ method: 'GET', path: '/v2/nothing', ...problem('not_found') })).toEqual([]);
    expect(contract.responseViolations({ method: 'GET', path: '/v2/nothing', ...json({}) })).not.toEqual([]);
    expect(contract.responseViolations({ method: 'DELETE', path: '/v1/mfa', ...problem('method_not_allowed', { Allow: 'GET' }) })).toEqual([]);
    expect(contract.responseViolations({ method: 'DELETE', path: '/v1/mfa', ...problem('method_not_allowed') })).toEqual(['required header Allow is missing']);
  });

  it("accepts API Gateway's own answer only where the gateway can send it", () => {
    const gateway = { status: 401, headers: new Headers({ 'Content-Type': 'application/json' }), body: '{"message":"Unauthorized"}' };
    expect(contract.responseViolations({ method: 'GET', path: '/v1/mfa', ...gateway })).toEqual([]);
    expect(contract.responseViolations({ method: 'GET', path: '/.well-known/jwks.json', ...gateway })).not.toEqual([]);
    expect(contract.responseViolations({ method: 'POST', path: '/v1/mfa/verify', ...gateway, status: 409 })).not.toEqual([]);
  });

  it('checks request bodies against the operation', () => {
    const request = { method: 'POST', path: '/v1/mfa/verify', contentType: 'application/json' };
    expect(contract.requestViolations({ ...request, body: '{"code":"123456"}' })).toEqual([]);
    expect(contract.requestViolations({ ...request, body: '{"code":"123456","recoveryCode":"X"}' })).not.toEqual([]);
    expect(contract.requestViolations({ ...request, contentType: 'text/plain', body: '{"code":"123456"}' })).not.toEqual([]);
  });
});

describe('checked fetch', () => {
  const answering = (response: Response) => createCheckedFetch({ fetch: async () => response });

  it('returns a documented response untouched, body still readable', async () => {
    const response = await answering(Response.json(STATUS_BODY))('http://localhost/v1/mfa');
    await expect(response.json()).resolves.toEqual(STATUS_BODY);
  });

  // A test that lets a contract violation pass must itself fail: `it.fails` proves that it does,
  // even when the test swallows the thrown error.
  it.fails('fails the running test on an undocumented field, even if the error is caught', async () => {
    await answering(Response.json({ ...STATUS_BODY, extra: 1 }))('http://localhost/v1/mfa').catch(() => undefined);
  });

  const rawMethodNotAllowed = { method: 'PUT', path: '/v1/mfa?x=1', status: 405, body: JSON.stringify(problemBody({ code: 'method_not_allowed' })) };

  it('checks a response read with raw HTTP (node headers) the same way', () => {
    expectDocumentedResponse({ ...rawMethodNotAllowed, headers: { 'content-type': 'application/problem+json', allow: ['GET'] } });
  });

  it.fails('fails the running test on a raw response without a required header', () => {
    try {
      expectDocumentedResponse({ ...rawMethodNotAllowed, headers: { 'content-type': 'application/problem+json' } });
    } catch {
      // swallowed on purpose: the soft failure must still fail the test
    }
  });

  it('names the exchange and every violation in the error it throws', () => {
    let error: unknown;
    try {
      contract.assertResponse({ method: 'GET', path: '/v1/mfa', ...json({ ...STATUS_BODY, extra: 1 }) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ContractViolationError);
    expect((error as ContractViolationError).message).toMatch(/^GET \/v1\/mfa -> 200 \{.*\} does not match openapi.json:\n {2}- response body must NOT have additional properties/s);
  });
});
