import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { Operator } from '../service/administration.js';
import type { Actor, SecondFactor } from '../service/context.js';
import { compiledCheckOf, deferredZodSchema, isPrecompiled, PendingSchemaMismatch } from './precompiled-schema.js';
import { InvalidRequestError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError } from './problems.js';
import { describeIssues, issueFragment } from './schema-words.js';

/** What API Gateway (HTTP API, payload 2.0) hands a function; the JWT authorizer's claims when the route has one. */
export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer;

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The signed-in user, from the claims API Gateway's JWT authorizer verified (signature,
 * issuer, audience, expiry). The user is always the token's `sub`, never a body or path field.
 * `accepted` are the audiences the authorizer is configured with (functions/config.ts): the
 * actor's audience is the one of them the token carries, as the authorizer matched it.
 */
export function actorOf(event: HttpEvent, accepted: Pick<Config, 'firstFactorAudiences'>): Actor {
  const claims = 'authorizer' in event.requestContext ? event.requestContext.authorizer?.jwt?.claims : undefined;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) throw new UnauthorizedError();
  const email = typeof claims?.email === 'string' && claims.email.length <= 256 ? claims.email : undefined;
  // API Gateway's JWT authorizer admits a token only for a configured `aud` (or, without one, `client_id`).
  const audience = acceptedAudience(claims?.aud !== undefined ? claims.aud : claims?.client_id, accepted.firstFactorAudiences);
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
 * The audience the authorizer accepted: the first configured audience the claim names. API
 * Gateway hands claims over as strings, an array `aud` as "[a b]"; a token of several apps
 * (`["some-other-app", "this-app"]`) is this service's by the configured one it carries, never
 * by its first entry. Undefined when it carries none (the authorizer would have refused it).
 */
function acceptedAudience(claim: unknown, accepted: readonly string[]): string | undefined {
  const named = Array.isArray(claim)
    ? claim.filter((value): value is string => typeof value === 'string')
    : typeof claim === 'string'
      ? /^\[(.*)\]$/.test(claim)
        ? claim.slice(1, -1).trim().split(/\s+/)
        : [claim]
      : [];
  return accepted.find((audience) => named.includes(audience));
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
  // In a Lambda bundle the schema is precompiled (functions/http/precompiled-schema.ts): zod is loaded only to word a refusal.
  // The local stack compiles the same checks when it starts, and validates with them too.
  const check = compiledCheckOf(schema);
  if (check) {
    if (check(value)) return value as z.infer<S>;
    if (isPrecompiled(schema)) throw new PendingSchemaMismatch(schema, value, bodyMismatch);
    throw bodyMismatch(schema, value);
  }
  const result = (isPrecompiled(schema) ? deferredZodSchema(schema) : schema).safeParse(value, { error: issueFragment });
  if (!result.success) throw mismatchProblem(result.error);
  return result.data as z.infer<S>;
}

/** Paths and the schema's own words only: never echo the submitted values. */
function mismatchProblem(error: z.ZodError): InvalidRequestError {
  return new InvalidRequestError(describeIssues(error.issues));
}

/**
 * The problem for a body a precompiled check refused, worded by zod. The check and zod accept
 * the same bodies (test/infra/precompiled-schemas.test.ts); were zod ever to accept one the
 * check refused, the body is still refused.
 */
function bodyMismatch(schema: z.ZodType, value: unknown): InvalidRequestError {
  const result = schema.safeParse(value, { error: issueFragment });
  return result.success ? new InvalidRequestError('The body does not match the schema.') : mismatchProblem(result.error);
}

/**
 * A name as the service keeps it: without the leading and trailing white space the schema's
 * checks already looked past (functions/http/schemas.ts, AuthenticatorName).
 */
export function keptName<N extends string | undefined>(name: N): N {
  return (name === undefined ? name : name.trim()) as N;
}

/** The proof in a validated body (`{code}`, `{recoveryCode}`, `{webauthn}`, `{emailCode}` or, at sign-in, `{device}`), without the fields beside it. */
export function secondFactorOf(
  body:
    | { code: string }
    | { recoveryCode: string }
    | { webauthn: object }
    | { emailCode: string }
    | { device: { id: string; challenge: string; signature: string } },
): SecondFactor {
  if ('code' in body) return { code: body.code };
  if ('recoveryCode' in body) return { recoveryCode: body.recoveryCode };
  if ('emailCode' in body) return { emailCode: body.emailCode };
  if ('device' in body) return { device: { id: body.device.id, challenge: body.device.challenge, signature: body.device.signature } };
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
  const value = checkedPathParameters(event, schema);
  if (value === undefined) throw notFound();
  return value;
}

/**
 * The route's path parameters if they match the schema, else undefined: the compiled check (inside
 * a bundle, or compiled by the local stack), zod elsewhere (the two accept the same values).
 */
export function checkedPathParameters<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> | undefined {
  const value = event.pathParameters ?? {};
  const check = compiledCheckOf(schema);
  if (check) return check(value) ? (value as z.infer<S>) : undefined;
  const result = (isPrecompiled(schema) ? deferredZodSchema(schema) : schema).safeParse(value);
  return result.success ? (result.data as z.infer<S>) : undefined;
}
