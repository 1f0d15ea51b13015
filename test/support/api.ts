import { expect } from 'vitest';
import { createMfaClient, type MfaClient } from '../../client/index.js';
import { committedContract, ContractViolationError, type OpenApiContract } from './openapi-contract.js';

export interface CheckedFetchOptions {
  contract?: OpenApiContract;
  /** Also check request bodies against the operation's `requestBody` (off for tests that send bad requests on purpose). */
  checkRequests?: boolean;
  fetch?: typeof fetch;
}

/**
 * `fetch` that checks every response against openapi.json (status, content type, body,
 * required headers) and fails the test on any mismatch. The failure is raised as a
 * ContractViolationError and also recorded on the running test, so a test that expects
 * a rejection cannot swallow it.
 */
export function createCheckedFetch(options: CheckedFetchOptions = {}): typeof fetch {
  const contract = options.contract ?? committedContract();
  const send = options.fetch ?? globalThis.fetch;
  return async (input, init) => {
    const request = new Request(input, init);
    const { pathname } = new URL(request.url);
    if (options.checkRequests) {
      const body = request.body ? await request.clone().text() : '';
      check(() => contract.assertRequest({ method: request.method, path: pathname, contentType: request.headers.get('content-type'), body }));
    }
    const response = await send(request);
    const body = await response.clone().text();
    check(() => contract.assertResponse({ method: request.method, path: pathname, status: response.status, headers: response.headers, body }));
    return response;
  };
}

/** The typed client, as integrators use it, with every exchange checked against the contract. */
export function createCheckedClient(baseUrl: string, getToken?: () => string | undefined | Promise<string | undefined>): MfaClient {
  return createMfaClient({ baseUrl, getToken, fetch: createCheckedFetch({ checkRequests: true }) });
}

/** A raw request checked against the contract: for what the typed client cannot send (bad bodies, unknown paths). */
export function checkedRequest(baseUrl: string, path: string, init?: RequestInit): Promise<Response> {
  return createCheckedFetch()(`${baseUrl.replace(/\/+$/, '')}${path}`, init);
}

/**
 * Checks a response read some other way (e.g. `rawRequest` from raw-http.ts, which sends what
 * fetch refuses to) against the contract; fails the test on any mismatch.
 */
export function expectDocumentedResponse(exchange: {
  method: string;
  path: string;
  status: number;
  headers: Headers | Record<string, string | string[] | undefined>;
  body: string;
}): void {
  const headers = exchange.headers instanceof Headers ? exchange.headers : new Headers();
  if (!(exchange.headers instanceof Headers)) {
    for (const [name, value] of Object.entries(exchange.headers)) if (value !== undefined) headers.set(name, [value].flat().join(', '));
  }
  const path = new URL(exchange.path, 'http://localhost').pathname;
  check(() => committedContract().assertResponse({ method: exchange.method, path, status: exchange.status, headers, body: exchange.body }));
}

function check(assertion: () => void): void {
  try {
    assertion();
  } catch (error) {
    if (error instanceof ContractViolationError && expect.getState().currentTestName !== undefined) {
      expect.soft(error.violations, error.message).toEqual([]);
    }
    throw error;
  }
}
