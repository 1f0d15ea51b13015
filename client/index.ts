/**
 * Typed client for the serverless-mfa HTTP API, for browsers and Node (global fetch).
 * Types come from the same zod schemas the handlers validate with (type-only imports:
 * nothing but fetch at run time). Every non-2xx answer is thrown as an MfaProblemError.
 */
import type { z } from 'zod';
import type {
  ConfirmEnrollmentResponse,
  DisableResponse,
  EnrollmentResponse,
  JwksResponse,
  MfaStatusResponse,
  OpenIdConfigurationResponse,
  RecoveryCodesResponse,
  SecondFactorRequest,
  VerifyResponse,
} from '../functions/http/schemas.js';

export type MfaStatus = z.infer<typeof MfaStatusResponse>;
export type TotpEnrollment = z.infer<typeof EnrollmentResponse>;
export type TotpEnrollmentConfirmed = z.infer<typeof ConfirmEnrollmentResponse>;
export type MfaVerified = z.infer<typeof VerifyResponse>;
export type RecoveryCodes = z.infer<typeof RecoveryCodesResponse>;
export type TotpDisabled = z.infer<typeof DisableResponse>;
export type OpenIdConfiguration = z.infer<typeof OpenIdConfigurationResponse>;
export type JsonWebKeySet = z.infer<typeof JwksResponse>;
export type SecondFactor = z.infer<typeof SecondFactorRequest>;

export interface MfaClientOptions {
  /** The API's base URL, e.g. `http://localhost:3000` or the API Gateway URL. */
  baseUrl: string;
  /** The first-factor JWT; called before each authenticated request. */
  getToken?: () => string | undefined | Promise<string | undefined>;
  fetch?: typeof fetch;
}

/** An RFC 9457 problem answered by the API, with its stable `code`. */
export class MfaProblemError extends Error {
  override readonly name = 'MfaProblemError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    /** Seconds to wait, from Retry-After (429 and 503). */
    readonly retryAfter?: number,
  ) {
    super(detail || title);
  }
}

export type MfaClient = ReturnType<typeof createMfaClient>;

export function createMfaClient(options: MfaClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, authenticated = true): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (authenticated) {
      const token = await options.getToken?.();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await doFetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const problem = (parsed ?? {}) as { code?: string; title?: string; detail?: string };
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new MfaProblemError(
        response.status,
        problem.code ?? 'http_error',
        problem.title ?? response.statusText,
        problem.detail ?? '',
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return parsed as T;
  }

  return {
    getOpenIdConfiguration: () => call<OpenIdConfiguration>('GET', '/.well-known/openid-configuration', undefined, false),
    getJwks: () => call<JsonWebKeySet>('GET', '/.well-known/jwks.json', undefined, false),
    getMfaStatus: () => call<MfaStatus>('GET', '/v1/mfa'),
    startTotpEnrollment: () => call<TotpEnrollment>('POST', '/v1/mfa/totp/enrollment', {}),
    confirmTotpEnrollment: (body: { code: string }) => call<TotpEnrollmentConfirmed>('POST', '/v1/mfa/totp/enrollment/confirm', body),
    verifyMfa: (body: SecondFactor) => call<MfaVerified>('POST', '/v1/mfa/verify', body),
    regenerateRecoveryCodes: (body: SecondFactor) => call<RecoveryCodes>('POST', '/v1/mfa/recovery-codes', body),
    disableTotp: (body: SecondFactor) => call<TotpDisabled>('POST', '/v1/mfa/totp/disable', body),
    /** Local development only: a first-factor token from the dev issuer. */
    createDevToken: (body: { sub: string; email?: string }) => call<{ token: string }>('POST', '/dev/token', body, false),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
