/**
 * Checks serverless-mfa assertions in an app's backend:
 *
 *   const mfa = createMfaVerifier({ issuer: 'https://mfa.example.com', audience: 'my-app' });
 *   const claims = await mfa.verify(assertion, { nonce, subject: session.userId, maxAgeSeconds: 300 });
 *   // A sensitive action: a factor proven now (not a remembered browser), at most 5 minutes ago.
 *   await mfa.verify(assertion, { require: 'fresh', maxAuthAgeSeconds: 300 });
 *   // Refused? Answer 401 with `WWW-Authenticate: ${stepUpChallenge({ reason: error.reason, maxAge: 300 })}` (RFC 9470).
 *
 * Depends on `jose` only (nothing of the service, no AWS SDK), so a backend can import it alone.
 */
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { MFA_ASSERTION_TYPE } from './assertion-type.js';
import type { ReplayCache } from './replay-cache.js';

export { MFA_ASSERTION_TYPE } from './assertion-type.js';
export { createMemoryReplayCache, type MemoryReplayCacheOptions, type ReplayCache } from './replay-cache.js';

/** Why an assertion was refused. Each is a reason to refuse the request, never to retry it as is. */
export type MfaAssertionFailure =
  /** Not a JWS, not ES256, not signed by a key the issuer publishes, or altered. */
  | 'bad_signature'
  /** Past its `exp`, before its `nbf`, or issued longer ago than `maxAgeSeconds`. */
  | 'expired'
  | 'wrong_issuer'
  /** Issued for another app. */
  | 'wrong_audience'
  /** Issued for another user than the one this request is about. */
  | 'wrong_subject'
  /** Issued for another sign-in (its `nonce` is not the one this backend issued), or has none. */
  | 'wrong_nonce'
  /** Not an MFA assertion: no `typ: mfa+jwt`, or a claim an assertion always has is missing. */
  | 'wrong_type'
  /** `require: 'phishing-resistant'` and the second factor was not a proof of possession (`amr` has no `pop`). */
  | 'not_phishing_resistant'
  /** `require: 'fresh'` and the assertion came from a remembered browser (`remembered: true`), not a factor proven now. */
  | 'not_fresh'
  /** `maxAuthAgeSeconds` and the factor was last proven (`auth_time`) longer ago than that, or the assertion has no `auth_time`. */
  | 'auth_too_old'
  /** Accepted once already (its `jti` is in the replay cache). */
  | 'replayed';

export class MfaAssertionError extends Error {
  override readonly name = 'MfaAssertionError';
  constructor(
    readonly reason: MfaAssertionFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The issuer's discovery document or keys, or the replay cache, could not be read: the
 * assertion was neither accepted nor found bad. Answer 503, not 401.
 */
export class MfaVerifierUnavailableError extends Error {
  override readonly name = 'MfaVerifierUnavailableError';
}

/** What a verified assertion says. */
export interface MfaAssertionClaims {
  iss: string;
  /** The user, as the first-factor token named them. */
  sub: string;
  aud: string | string[];
  iat: number;
  nbf?: number;
  exp: number;
  jti: string;
  /** RFC 8176 method references: `mfa` always, `otp` for a TOTP code, `pop` for a proof of possession (passkey, security key). */
  amr: string[];
  /** The nonce the app sent with POST /v1/mfa/verify, when it sent one. */
  nonce?: string;
  /** When a second factor was last proven (seconds): `iat` for a factor proven now, earlier for a remembered browser. */
  auth_time?: number;
  /** OpenID EAP ACR value of a key's assertion: `phrh` (device-bound key) or `phr` (synced passkey). */
  acr?: string;
  /** Signed in by a remembered browser, without a factor proven now. */
  remembered?: boolean;
  [claim: string]: unknown;
}

export interface MfaVerifierOptions {
  /** The service's issuer URL, exactly as the assertions' `iss` (the URL serving /.well-known/openid-configuration). */
  issuer: string;
  /** This app's audience (the `aud` the service puts in assertions for it); several are accepted when given a list. */
  audience: string | string[];
  /** Remembers accepted `jti`s so that each assertion is accepted once. Without one, an assertion is reusable until it expires. */
  replayCache?: ReplayCache;
  /** Allowed clock difference with the service, for `exp`, `nbf` and `maxAgeSeconds`. Default 5. */
  clockToleranceSeconds?: number;
  /**
   * After fetching the keys, an unknown `kid` does not trigger another fetch for this long
   * (a flood of made-up key ids cannot turn into a flood of requests). Default 30.
   */
  keyRefetchCooldownSeconds?: number;
  /** Timeout of each discovery or JWKS request. Default 5000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface VerifyOptions {
  /** The nonce this backend issued for the sign-in in progress; the assertion must carry it. */
  nonce?: string;
  /** The user this request is about (the session's user); the assertion's `sub` must be it. */
  subject?: string;
  /** Refuse (as `expired`) an assertion issued longer ago than this. */
  maxAgeSeconds?: number;
  /**
   * `phishing-resistant`: the second factor must have been a proof of possession (`amr` contains
   * `pop`). `fresh`: a factor proven for this sign-in, not a remembered browser. Default `any`.
   */
  require?: 'any' | 'phishing-resistant' | 'fresh';
  /** Refuse (as `auth_too_old`) an assertion whose factor was last proven (`auth_time`) longer ago than this. */
  maxAuthAgeSeconds?: number;
}

export interface MfaVerifier {
  /** Resolves to the assertion's claims, or throws MfaAssertionError (refuse) or MfaVerifierUnavailableError (try later). */
  verify(token: string, options?: VerifyOptions): Promise<MfaAssertionClaims>;
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'amr'];

export function createMfaVerifier(options: MfaVerifierOptions): MfaVerifier {
  // The service's issuer never ends in a slash; a configured one that does means the same issuer.
  const issuer = options.issuer.replace(/\/+$/, '');
  if (!URL.canParse(issuer)) throw new TypeError('issuer must be a URL.');
  const audiences = [options.audience].flat();
  if (audiences.length === 0 || audiences.some((audience) => typeof audience !== 'string' || audience.length === 0)) {
    throw new TypeError('audience must be a non-empty string or list of strings.');
  }
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const timeoutMs = options.timeoutMs ?? 5000;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  let keys: Promise<JWTVerifyGetKey> | undefined;

  const keySet = () => {
    keys ??= discoverKeys(issuer, fetchImpl, timeoutMs, (options.keyRefetchCooldownSeconds ?? 30) * 1000).catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return keys;
  };

  return {
    async verify(token, verifyOptions = {}) {
      if (typeof token !== 'string' || token.length === 0) throw new MfaAssertionError('bad_signature', 'No assertion was given.');
      const { maxAgeSeconds, maxAuthAgeSeconds } = verifyOptions;
      if (maxAgeSeconds !== undefined && !(Number.isFinite(maxAgeSeconds) && maxAgeSeconds > 0)) throw new TypeError('maxAgeSeconds must be a positive number.');
      if (maxAuthAgeSeconds !== undefined && !(Number.isFinite(maxAuthAgeSeconds) && maxAuthAgeSeconds > 0)) throw new TypeError('maxAuthAgeSeconds must be a positive number.');
      // `{ nonce: session.mfaNonce }` with no nonce in the session must not quietly skip the check.
      for (const name of ['nonce', 'subject'] as const) {
        if (name in verifyOptions && !(typeof verifyOptions[name] === 'string' && verifyOptions[name].length > 0)) {
          throw new TypeError(`${name} was given but is not a non-empty string; leave it out to skip its check.`);
        }
      }
      if (![undefined, 'any', 'phishing-resistant', 'fresh'].includes(verifyOptions.require)) throw new TypeError("require must be 'any', 'phishing-resistant' or 'fresh'.");
      const getKey = await keySet();

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer,
          audience: audiences,
          algorithms: ['ES256'],
          typ: MFA_ASSERTION_TYPE,
          requiredClaims: REQUIRED_CLAIMS,
          clockTolerance,
          ...(verifyOptions.subject !== undefined ? { subject: verifyOptions.subject } : {}),
          ...(maxAgeSeconds !== undefined ? { maxTokenAge: maxAgeSeconds } : {}),
        }));
      } catch (error) {
        throw refusalFor(error);
      }

      const claims = payload as MfaAssertionClaims;
      if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string' || claims.jti.length === 0 || !isStringList(claims.amr)) {
        throw new MfaAssertionError('wrong_type', 'The token is not an MFA assertion.');
      }
      if (verifyOptions.nonce !== undefined && claims.nonce !== verifyOptions.nonce) {
        throw new MfaAssertionError('wrong_nonce', 'The assertion was issued for another sign-in.');
      }
      if (verifyOptions.require === 'phishing-resistant' && !claims.amr.includes('pop')) {
        throw new MfaAssertionError('not_phishing_resistant', 'The second factor was not phishing-resistant.');
      }
      if (verifyOptions.require === 'fresh' && claims.remembered === true) {
        throw new MfaAssertionError('not_fresh', 'The assertion came from a remembered browser, not a factor proven now.');
      }
      if (maxAuthAgeSeconds !== undefined) {
        // No auth_time (an assertion of an older service) cannot show its age: refused, never assumed fresh.
        const authTime = claims.auth_time;
        if (typeof authTime !== 'number' || !Number.isFinite(authTime) || Date.now() / 1000 - authTime > maxAuthAgeSeconds + clockTolerance) {
          throw new MfaAssertionError('auth_too_old', 'The second factor was proven too long ago.');
        }
      }
      // Last: only an assertion good in every other way uses up its jti.
      if (options.replayCache) {
        let first: boolean;
        try {
          first = await options.replayCache.claim(claims.jti, claims.exp + clockTolerance);
        } catch (error) {
          throw new MfaVerifierUnavailableError('The replay cache could not be written.', { cause: error });
        }
        if (!first) throw new MfaAssertionError('replayed', 'The assertion has been used already.');
      }
      return claims;
    },
  };
}

/** What `stepUpChallenge` asks for: why, and optionally the most recent authentication and the ACR values wanted. */
export interface StepUpChallengeOptions {
  /** The refusal that calls for a step-up (its `error_description`), or `mfa_required` when no assertion came. */
  reason: MfaAssertionFailure | 'mfa_required';
  /** `max_age`: seconds since the factor may have been proven (a whole number, 0 or more). */
  maxAge?: number;
  /** `acr_values`: e.g. `['phrh', 'phr']` for a phishing-resistant factor. */
  acrValues?: readonly string[];
}

const STEP_UP_DESCRIPTIONS: Partial<Record<StepUpChallengeOptions['reason'], string>> = {
  mfa_required: 'A second factor is required',
  not_fresh: 'A second factor proven now is required',
  auth_too_old: 'More recent authentication is required',
  not_phishing_resistant: 'A different authentication level is required',
};

/**
 * The `WWW-Authenticate` value of an RFC 9470 step-up challenge, for a 401 answer:
 * `Bearer error="insufficient_user_authentication", error_description="...", acr_values="...", max_age="..."`
 * (auth-params as the RFC's examples write them). The client then runs the second step again.
 */
export function stepUpChallenge(options: StepUpChallengeOptions): string {
  const description = STEP_UP_DESCRIPTIONS[options.reason] ?? 'A new second factor is required';
  const params = [`error="insufficient_user_authentication"`, `error_description="${description}"`];
  if (options.acrValues !== undefined) {
    if (options.acrValues.length === 0 || options.acrValues.some((value) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(value))) {
      throw new TypeError('acrValues must be a non-empty list of ACR values (printable, no spaces, quotes or backslashes).');
    }
    params.push(`acr_values="${options.acrValues.join(' ')}"`);
  }
  if (options.maxAge !== undefined) {
    if (!Number.isInteger(options.maxAge) || options.maxAge < 0) throw new TypeError('maxAge must be a whole number of seconds, 0 or more.');
    params.push(`max_age="${options.maxAge}"`);
  }
  return `Bearer ${params.join(', ')}`;
}

/** `{issuer}/.well-known/openid-configuration` -> `jwks_uri` -> a key set that refetches on an unknown `kid`. */
async function discoverKeys(issuer: string, fetchImpl: typeof fetch, timeoutMs: number, cooldownMs: number): Promise<JWTVerifyGetKey> {
  const discoveryUrl = `${issuer}/.well-known/openid-configuration`;
  let document: unknown;
  try {
    const response = await fetchImpl(discoveryUrl, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    document = await response.json();
  } catch (error) {
    throw new MfaVerifierUnavailableError(`The discovery document at ${discoveryUrl} could not be read.`, { cause: error });
  }
  const { issuer: published, jwks_uri: jwksUri } = (document ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer it was fetched for.
  if (published !== issuer) throw new MfaVerifierUnavailableError(`The discovery document at ${discoveryUrl} is for another issuer.`);
  if (typeof jwksUri !== 'string' || !isAllowedKeyUrl(jwksUri)) throw new MfaVerifierUnavailableError(`The discovery document at ${discoveryUrl} has no usable jwks_uri.`);
  return createRemoteJWKSet(new URL(jwksUri), {
    timeoutDuration: timeoutMs,
    cooldownDuration: cooldownMs,
    [customFetch]: (url, init) => fetchImpl(url, { ...init, redirect: 'error' }),
  });
}

/** https, or http on this machine (the local stand-in). */
function isAllowedKeyUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

const CLAIM_REASONS: Record<string, MfaAssertionFailure> = {
  iss: 'wrong_issuer',
  aud: 'wrong_audience',
  sub: 'wrong_subject',
  typ: 'wrong_type',
  exp: 'expired',
  nbf: 'expired',
  iat: 'expired',
};

function refusalFor(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new MfaAssertionError('expired', 'The assertion has expired or is too old.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reason = error.reason === 'missing' && !['iss', 'aud', 'sub'].includes(error.claim) ? 'wrong_type' : CLAIM_REASONS[error.claim] ?? 'wrong_type';
    return new MfaAssertionError(reason, `The assertion's ${error.claim} claim is not acceptable.`);
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKInvalid
  ) {
    return new MfaAssertionError('bad_signature', 'The assertion is not signed by the issuer.');
  }
  return new MfaVerifierUnavailableError("The issuer's keys could not be read.", { cause: error });
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
