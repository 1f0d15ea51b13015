/**
 * A Lambda authorizer for an app's own HTTP API (payload format 2.0, simple responses) that lets
 * a request through only with a fresh MFA assertion, each assertion once:
 *
 *   identitySource: ['$request.header.mfa-assertion'], enableSimpleResponses: true,
 *   resultsCacheTtl: 0 (each request brings its own assertion; a cached answer would skip the replay check)
 *
 * The nonce binds the assertion to the browser that signed in: at sign-in the app sets an HttpOnly
 * cookie `mfa_nonce` and gives the same value to its web client for POST /v1/mfa/verify.
 * The route's function gets `requestContext.authorizer.lambda = {userId, amr, mfaAt}`.
 *
 * Environment: MFA_ISSUER, MFA_AUDIENCE, MFA_REPLAY_TABLE (a table with string key `pk` and TTL
 * on `expiresAt`), optional MFA_REQUIRE (`any` | `phishing-resistant`) and MFA_MAX_AGE_SECONDS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { createMfaVerifier, MfaAssertionError, type MfaVerifier, type VerifyOptions } from 'serverless-mfa/verifier';
import { createDynamoDbReplayCache } from 'serverless-mfa/verifier/dynamodb-replay-cache';

export interface MfaAuthorizerContext {
  userId: string;
  /** The `amr` values, space-separated (`mfa otp`, `mfa pop`, ...). */
  amr: string;
  /** When the second step happened (epoch seconds). */
  mfaAt: number;
}

export type MfaAuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<MfaAuthorizerContext | Record<string, never>>;

export interface MfaAuthorizerOptions {
  verifier: MfaVerifier;
  /** The cookie holding the nonce the app issued at sign-in. Default `mfa_nonce`. */
  nonceCookie?: string;
  require?: VerifyOptions['require'];
  maxAgeSeconds?: number;
  /** Where refusals are reported (their reason, never the token). Default: console.warn as JSON. */
  onRefused?: (reason: string) => void;
}

export function createMfaAuthorizer(options: MfaAuthorizerOptions): (event: APIGatewayRequestAuthorizerEventV2) => Promise<MfaAuthorizerResult> {
  const nonceCookie = options.nonceCookie ?? 'mfa_nonce';
  const onRefused = options.onRefused ?? ((reason) => console.warn(JSON.stringify({ message: 'MFA assertion refused', reason })));
  const deny = (reason: string): MfaAuthorizerResult => {
    onRefused(reason);
    return { isAuthorized: false, context: {} };
  };
  return async (event) => {
    const assertion = event.headers?.['mfa-assertion'];
    const nonce = cookieValue(event.cookies ?? [], nonceCookie);
    if (!assertion) return deny('no_assertion');
    if (!nonce) return deny('no_nonce');
    try {
      const claims = await options.verifier.verify(assertion, {
        nonce,
        maxAgeSeconds: options.maxAgeSeconds ?? 300,
        require: options.require ?? 'any',
      });
      return { isAuthorized: true, context: { userId: claims.sub, amr: claims.amr.join(' '), mfaAt: claims.iat } };
    } catch (error) {
      if (error instanceof MfaAssertionError) return deny(error.reason);
      // The issuer's keys or the replay table could not be read: API Gateway answers 500, and nothing gets through.
      throw error;
    }
  };
}

function cookieValue(cookies: string[], name: string): string | undefined {
  for (const cookie of cookies) {
    const separator = cookie.indexOf('=');
    if (separator > 0 && cookie.slice(0, separator).trim() === name) return cookie.slice(separator + 1).trim();
  }
  return undefined;
}

/** Built on the first invocation from the environment; a missing setting fails that invocation (and so denies). */
let fromEnvironment: ReturnType<typeof createMfaAuthorizer> | undefined;

export const handler = (event: APIGatewayRequestAuthorizerEventV2): Promise<MfaAuthorizerResult> => {
  fromEnvironment ??= authorizerFromEnvironment(process.env);
  return fromEnvironment(event);
};

function authorizerFromEnvironment(env: NodeJS.ProcessEnv): ReturnType<typeof createMfaAuthorizer> {
  const setting = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set.`);
    return value;
  };
  const require = env.MFA_REQUIRE ?? 'any';
  if (require !== 'any' && require !== 'phishing-resistant') throw new Error('MFA_REQUIRE must be any or phishing-resistant.');
  return createMfaAuthorizer({
    verifier: createMfaVerifier({
      issuer: setting('MFA_ISSUER'),
      audience: setting('MFA_AUDIENCE'),
      replayCache: createDynamoDbReplayCache({ client: new DynamoDBClient({}), tableName: setting('MFA_REPLAY_TABLE') }),
    }),
    require,
    ...(env.MFA_MAX_AGE_SECONDS ? { maxAgeSeconds: Number(env.MFA_MAX_AGE_SECONDS) } : {}),
  });
}
