/**
 * Typed client for the serverless-mfa HTTP API, for browsers and Node (global fetch).
 * Types come from the same zod schemas the handlers validate with (type-only imports:
 * nothing but fetch at run time). Every non-2xx answer is thrown as an MfaProblemError.
 * The contract tests check each method against the route table and openapi.json.
 */
import type { z } from 'zod';
import type { ProblemCode } from '../functions/http/problems.js';
import type {
  AuthenticationResponse,
  AuthenticatorResponse,
  AuthenticatorsLeftResponse,
  ChallengeResponse,
  ConfirmEmailEnrollmentRequest,
  ConfirmEnrollmentRequest,
  ConfirmEnrollmentResponse,
  ConfirmRegistrationRequest,
  DeviceChallengeResponse,
  DevicesResponse,
  DisableResponse,
  EmailCodeSentResponse,
  EmailEnabledResponse,
  EnrollmentResponse,
  JwksResponse,
  KeyRegisteredResponse,
  MfaStatusResponse,
  OpenIdConfigurationResponse,
  RecoveryCodesResponse,
  RegistrationOptionsResponse,
  RegistrationResponse,
  RenameAuthenticatorRequest,
  SecondFactorRequest,
  VerifyRequest,
  VerifyResponse,
} from '../functions/http/schemas.js';

export type MfaStatus = z.infer<typeof MfaStatusResponse>;
export type Authenticator = z.infer<typeof AuthenticatorResponse>;
export type TotpEnrollment = z.infer<typeof EnrollmentResponse>;
export type TotpEnrollmentConfirmed = z.infer<typeof ConfirmEnrollmentResponse>;
export type MfaVerified = z.infer<typeof VerifyResponse>;
export type RecoveryCodes = z.infer<typeof RecoveryCodesResponse>;
export type TotpDisabled = z.infer<typeof DisableResponse>;
export type OpenIdConfiguration = z.infer<typeof OpenIdConfigurationResponse>;
export type JsonWebKeySet = z.infer<typeof JwksResponse>;
export type EmailCodeSent = z.infer<typeof EmailCodeSentResponse>;
export type EmailEnabled = z.infer<typeof EmailEnabledResponse>;
/** A proof of a current factor: `{code}`, `{recoveryCode}`, `{webauthn}` (a key's assertion) or `{emailCode}`. */
export type SecondFactor = z.infer<typeof SecondFactorRequest>;
export type VerifyMfaRequest = z.infer<typeof VerifyRequest>;
// WebAuthn Level 3 JSON forms: the browser's PublicKeyCredential.parse*OptionsFromJSON() read the
// options, and credential.toJSON() gives the credential to send back.
export type WebAuthnRegistration = z.infer<typeof RegistrationOptionsResponse>;
export type WebAuthnChallenge = z.infer<typeof ChallengeResponse>;
export type WebAuthnCreationOptions = WebAuthnRegistration['options'];
export type WebAuthnRequestOptions = WebAuthnChallenge['options'];
/** RegistrationResponseJSON: `credential.toJSON()` of navigator.credentials.create(). */
export type WebAuthnAttestation = z.infer<typeof RegistrationResponse>;
/** AuthenticationResponseJSON: `credential.toJSON()` of navigator.credentials.get(). */
export type WebAuthnAssertion = z.infer<typeof AuthenticationResponse>;
export type WebAuthnRegistrationConfirmed = z.infer<typeof KeyRegisteredResponse>;
export type AuthenticatorsLeft = z.infer<typeof AuthenticatorsLeftResponse>;
export type DeviceChallenge = z.infer<typeof DeviceChallengeResponse>;
export type RememberedDevices = z.infer<typeof DevicesResponse>;
export type RememberedDevice = RememberedDevices['devices'][number];
/** `rememberDevice` of a sign-in: the browser key's public JWK (as `crypto.subtle.exportKey('jwk', publicKey)` gives it) and a name. */
export type RememberDevice = NonNullable<Extract<VerifyMfaRequest, { code: string }>['rememberDevice']>;
export type DevicePublicKeyJwk = RememberDevice['publicKey'];

export interface MfaClientOptions {
  /** The API's base URL, e.g. `http://localhost:3000` or the API Gateway URL. */
  baseUrl: string;
  /** The first-factor JWT; called before each authenticated request. */
  getToken?: () => string | undefined | Promise<string | undefined>;
  fetch?: typeof fetch;
  /** Abort any request that takes longer (the promise rejects with the fetch's TimeoutError). */
  timeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/**
 * A problem `code` from openapi.json, or `http_error` for an answer without one (e.g. a
 * gateway's own error page). Open-ended so that a newer server's codes still type-check.
 */
export type MfaProblemCode = ProblemCode | 'http_error' | (string & {});

/** An RFC 9457 problem answered by the API, with its stable `code`. */
export class MfaProblemError extends Error {
  override readonly name = 'MfaProblemError';
  constructor(
    readonly status: number,
    readonly code: MfaProblemCode,
    readonly title: string,
    readonly detail: string,
    /** Seconds to wait, from Retry-After (429 and 503), whether sent as seconds or as an HTTP date. */
    readonly retryAfter?: number,
  ) {
    super(detail || title);
  }
}

export type MfaClient = ReturnType<typeof createMfaClient>;

/**
 * In AWS, API Gateway answers some requests itself with `{"message": ...}` (openapi.json:
 * GatewayError); they surface as the problem code of the same status, so callers handle one set.
 */
const GATEWAY_CODES: Partial<Record<number, ProblemCode>> = {
  401: 'unauthorized',
  404: 'not_found',
  429: 'too_many_attempts',
  500: 'internal_error',
  503: 'service_unavailable',
};

export function createMfaClient(options: MfaClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  async function call<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body: unknown, authenticated: boolean, request?: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
    if (authenticated) {
      const token = await options.getToken?.();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await doFetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: combineSignals(request?.signal, options.timeoutMs),
    });
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const problem = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { code?: unknown; title?: unknown; detail?: unknown; message?: unknown };
      const gatewayCode = typeof problem.message === 'string' ? GATEWAY_CODES[response.status] : undefined;
      throw new MfaProblemError(
        response.status,
        typeof problem.code === 'string' ? problem.code : (gatewayCode ?? 'http_error'),
        typeof problem.title === 'string' ? problem.title : typeof problem.message === 'string' ? problem.message : response.statusText,
        typeof problem.detail === 'string' ? problem.detail : '',
        parseRetryAfter(response.headers.get('retry-after')),
      );
    }
    return parsed as T;
  }

  return {
    getOpenIdConfiguration: (request?: RequestOptions) =>
      call<OpenIdConfiguration>('GET', '/.well-known/openid-configuration', undefined, false, request),
    getJwks: (request?: RequestOptions) => call<JsonWebKeySet>('GET', '/.well-known/jwks.json', undefined, false, request),
    getMfaStatus: (request?: RequestOptions) => call<MfaStatus>('GET', '/v1/mfa', undefined, true, request),
    /** While MFA is on, adding another app needs a proof (a code, a recovery code or a key). */
    startTotpEnrollment: (proof?: SecondFactor, request?: RequestOptions) =>
      call<TotpEnrollment>('POST', '/v1/mfa/totp/enrollment', proof ?? {}, true, request),
    confirmTotpEnrollment: (body: z.infer<typeof ConfirmEnrollmentRequest>, request?: RequestOptions) =>
      call<TotpEnrollmentConfirmed>('POST', '/v1/mfa/totp/enrollment/confirm', body, true, request),
    /** While MFA is on, adding a key needs a proof (a code, a recovery code or a key). */
    startWebAuthnRegistration: (proof?: SecondFactor, request?: RequestOptions) =>
      call<WebAuthnRegistration>('POST', '/v1/mfa/webauthn/registration', proof ?? {}, true, request),
    confirmWebAuthnRegistration: (body: z.infer<typeof ConfirmRegistrationRequest>, request?: RequestOptions) =>
      call<WebAuthnRegistrationConfirmed>('POST', '/v1/mfa/webauthn/registration/confirm', body, true, request),
    /** Request options for using a key as proof (verify, step-ups); each challenge works once. */
    startWebAuthnChallenge: (request?: RequestOptions) => call<WebAuthnChallenge>('POST', '/v1/mfa/webauthn/challenge', {}, true, request),
    /** Emails a code to the token's verified address (404 when the deployment offers no email codes); while MFA is on, needs a proof. */
    startEmailEnrollment: (proof?: SecondFactor, request?: RequestOptions) =>
      call<EmailCodeSent>('POST', '/v1/mfa/email/enrollment', proof ?? {}, true, request),
    confirmEmailEnrollment: (body: z.infer<typeof ConfirmEmailEnrollmentRequest>, request?: RequestOptions) =>
      call<EmailEnabled>('POST', '/v1/mfa/email/enrollment/confirm', body, true, request),
    /** Emails a new code for this session: its answer is an `{emailCode}` proof (at most 5 mails per 15 minutes). */
    startEmailChallenge: (request?: RequestOptions) => call<EmailCodeSent>('POST', '/v1/mfa/email/challenge', {}, true, request),
    renameAuthenticator: (id: string, body: z.infer<typeof RenameAuthenticatorRequest>, request?: RequestOptions) =>
      call<Authenticator>('PATCH', `/v1/mfa/authenticators/${encodeURIComponent(id)}`, body, true, request),
    /** Removing the last authenticator turns MFA off and deletes the recovery codes. */
    removeAuthenticator: (id: string, proof: SecondFactor, request?: RequestOptions) =>
      call<AuthenticatorsLeft>('POST', `/v1/mfa/authenticators/${encodeURIComponent(id)}/remove`, proof, true, request),
    /** A proof (or a remembered browser's `{device}` signature), optionally `nonce` and, with a real factor, `rememberDevice`. */
    verifyMfa: (body: VerifyMfaRequest, request?: RequestOptions) => call<MfaVerified>('POST', '/v1/mfa/verify', body, true, request),
    /** A challenge for a browser remembered for this app, bound to this session; its signature is a `{device}` proof. */
    startDeviceChallenge: (deviceId: string, request?: RequestOptions) => call<DeviceChallenge>('POST', '/v1/mfa/device/challenge', { deviceId }, true, request),
    /** Forgets one remembered browser (no proof needed). */
    forgetDevice: (id: string, request?: RequestOptions) => call<RememberedDevices>('POST', `/v1/mfa/devices/${encodeURIComponent(id)}/forget`, {}, true, request),
    /** Forgets every remembered browser (no proof needed). */
    forgetAllDevices: (request?: RequestOptions) => call<RememberedDevices>('POST', '/v1/mfa/devices/forget-all', {}, true, request),
    regenerateRecoveryCodes: (body: SecondFactor, request?: RequestOptions) =>
      call<RecoveryCodes>('POST', '/v1/mfa/recovery-codes', body, true, request),
    disableTotp: (body: SecondFactor, request?: RequestOptions) => call<TotpDisabled>('POST', '/v1/mfa/totp/disable', body, true, request),
    /** Local development only (`npm start`), never deployed: a first-factor token from the dev issuer. */
    createDevToken: (body: { sub: string; email?: string; emailVerified?: boolean }, request?: RequestOptions) =>
      call<{ token: string }>('POST', '/dev/token', body, false, request),
  };
}

/**
 * Retry-After as seconds to wait: delta-seconds, or an HTTP date (RFC 9110 section 10.2.3)
 * counted from now and rounded up. Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  // Every HTTP date form starts with the day name; anything else is not one (Date.parse('-5') is a year).
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function combineSignals(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  if (signal && timeout) return AbortSignal.any([signal, timeout]);
  return signal ?? timeout;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
