import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { z } from 'zod';
import type { Operator } from '../service/administration.js';
import type { Actor, SecondFactor } from '../service/context.js';
import { InvalidRequestError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError } from './problems.js';
import { describeIssues, issueFragment } from './schema-words.js';

/** What API Gateway (HTTP API, payload 2.0) hands a function; the JWT authorizer's claims when the route has one. */
export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer;

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The signed-in user, from the claims API Gateway's JWT authorizer verified (signature,
 * issuer, audience, expiry). The user is always the token's `sub`, never a body or path field.
 */
export function actorOf(event: HttpEvent): Actor {
  const claims = 'authorizer' in event.requestContext ? event.requestContext.authorizer?.jwt?.claims : undefined;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) throw new UnauthorizedError();
  const email = typeof claims?.email === 'string' && claims.email.length <= 256 ? claims.email : undefined;
  const audience = firstFactorAudience(claims?.aud) ?? firstFactorAudience(claims?.client_id);
  // API Gateway's JWT authorizer admits a token only for a configured `aud` (or, without one, `client_id`).
  if (audience === undefined) throw new UnauthorizedError();
  const sessionId = firstFactorSessionOf(claims, event);
  // API Gateway hands claims over as strings ("true"); other callers may keep JSON's boolean.
  const emailVerified = claims?.email_verified === true || claims?.email_verified === 'true';
  return {
    userId: sub,
    accountName: email ?? sub,
    audience,
    sessionId,
    ...(email !== undefined && emailVerified && isEmailAddress(email) ? { verifiedEmail: email } : {}),
    audit: { requestId: event.requestContext.requestId, sourceIp: event.requestContext.http.sourceIp, sessionId },
  };
}

/**
 * The first-factor session a token belongs to: its `sid` (OIDC providers, Keycloak, Auth0),
 * else `origin_jti` (Cognito access tokens keep it across refreshes), else `jti`, else the token
 * itself. What is kept is a digest (22 base64url characters), never the claim or the token: it
 * names the session in limits, pending ceremonies and audit lines, and is never answered.
 */
export function firstFactorSessionOf(claims: Record<string, unknown> | undefined, event: Pick<HttpEvent, 'headers'>): string {
  for (const claim of ['sid', 'origin_jti', 'jti'] as const) {
    const value = claims?.[claim];
    if (typeof value === 'string' && value.length > 0 && value.length <= 1024) return sessionDigest(`${claim}:${value}`);
  }
  const authorization = event.headers?.authorization ?? event.headers?.Authorization ?? '';
  const token = authorization.replace(/^Bearer\s+/i, '').trim();
  // API Gateway's JWT authorizer only admits a request that carries its token; without one, there is no session to name.
  if (token.length === 0) throw new UnauthorizedError();
  return sessionDigest(`token:${token}`);
}

/** What a verified `email` claim must look like to be mailed to: one `@`, no spaces or control characters. */
const isEmailAddress = (value: string): boolean => /^[^@\s\p{Cc}]+@[^@\s\p{Cc}]+\.[^@\s\p{Cc}]+$/u.test(value);

const sessionDigest = (value: string): string => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/**
 * The app a first-factor token was issued to. API Gateway hands claims over as strings, an
 * array `aud` as "[a b]"; the first audience names the app.
 */
function firstFactorAudience(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : typeof value === 'string' ? value.replace(/^\[(.*)\]$/, '$1').trim().split(/[\s,]+/)[0] : undefined;
  return typeof first === 'string' && first.length > 0 && first.length <= 256 ? first : undefined;
}

/**
 * The operator of an IAM-authorised route: the principal whose SigV4 signature API Gateway's
 * IAM authorizer verified (payload 2.0: `requestContext.authorizer.iam.userArn`).
 */
export function operatorOf(event: HttpEvent): Operator {
  const authorizer = 'authorizer' in event.requestContext ? (event.requestContext.authorizer as { iam?: { userArn?: unknown } } | undefined) : undefined;
  const principal = authorizer?.iam?.userArn;
  // AWS's ARNs are printable ASCII: anything else cannot be a verified principal (nor reach an audit line).
  if (typeof principal !== 'string' || !/^arn:[\x21-\x7e]+$/.test(principal) || principal.length > 2048) throw new UnauthorizedError();
  return { principal, audit: { requestId: event.requestContext.requestId, sourceIp: event.requestContext.http.sourceIp } };
}

/**
 * The JSON body, validated: at most 16 KB, `application/json`, well-formed, and matching the
 * schema exactly. An absent body counts as `{}`.
 */
export function parseBody<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError();
  let value: unknown = {};
  if (text.trim().length > 0) {
    const contentType = (event.headers?.['content-type'] ?? event.headers?.['Content-Type'] ?? '').toLowerCase();
    const mediaType = contentType.split(';')[0]!.trim();
    if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
      throw new UnsupportedMediaTypeError();
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidRequestError('The body is not valid JSON.');
    }
  }
  const result = schema.safeParse(value, { error: issueFragment });
  // Paths and the schema's own words only: never echo the submitted values.
  if (!result.success) throw new InvalidRequestError(describeIssues(result.error.issues));
  return result.data;
}

/** The proof in a validated body (`{code}`, `{recoveryCode}`, `{webauthn}` or `{emailCode}`), without the fields beside it. */
export function secondFactorOf(body: { code: string } | { recoveryCode: string } | { webauthn: object } | { emailCode: string }): SecondFactor {
  if ('code' in body) return { code: body.code };
  if ('recoveryCode' in body) return { recoveryCode: body.recoveryCode };
  if ('emailCode' in body) return { emailCode: body.emailCode };
  return { webauthn: body.webauthn as Extract<SecondFactor, { webauthn: unknown }>['webauthn'] };
}

/** The proof in a body that may also be `{}`, or undefined for `{}`. */
export function optionalSecondFactorOf(body: object): SecondFactor | undefined {
  return 'code' in body || 'recoveryCode' in body || 'webauthn' in body || 'emailCode' in body ? secondFactorOf(body as Parameters<typeof secondFactorOf>[0]) : undefined;
}

/**
 * The route's path parameters (API Gateway's `pathParameters`), validated. A value that cannot
 * name anything (`notFound`) answers as what it is: no such resource.
 */
export function pathParametersOf<S extends z.ZodType>(event: HttpEvent, schema: S, notFound: () => Error): z.infer<S> {
  const result = schema.safeParse(event.pathParameters ?? {});
  if (!result.success) throw notFound();
  return result.data;
}
