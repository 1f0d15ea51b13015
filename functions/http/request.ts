import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { z } from 'zod';
import type { Actor } from '../service/mfa-service.js';
import { InvalidRequestError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError } from './problems.js';

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
  return {
    userId: sub,
    accountName: email ?? sub,
    audit: { requestId: event.requestContext.requestId, sourceIp: event.requestContext.http.sourceIp },
  };
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
  const result = schema.safeParse(value);
  if (!result.success) {
    // Paths and issue kinds only: never echo the submitted values.
    const where = result.error.issues.map((issue) => `${['body', ...issue.path.map(String)].join('.')}: ${issue.code}`);
    throw new InvalidRequestError(`The body does not match the schema (${where.slice(0, 5).join('; ')}).`);
  }
  return result.data;
}
