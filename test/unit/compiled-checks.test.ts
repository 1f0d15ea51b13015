import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { InvalidRequestError } from '../../functions/http/problems.js';
import { compiledCheckOf, useCompiledCheck } from '../../functions/http/precompiled-schema.js';
import { checkedPathParameters, parseBody, type HttpEvent } from '../../functions/http/request.js';
import { routeById } from '../../functions/http/routes.js';
import { VerifyRequest } from '../../functions/http/schemas.js';
import { compiledCheck } from '../../lib/precompiled-schemas.js';

const jsonEvent = (body: unknown, pathParameters?: Record<string, string>): HttpEvent =>
  ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, ...(pathParameters ? { pathParameters } : {}) }) as unknown as HttpEvent;

const problemOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('request checks compiled outside a bundle (the local stack)', () => {
  it('compiles the check a bundle carries, on first use, accepting what zod accepts', () => {
    const check = compiledCheck(VerifyRequest)!;
    expect(check({ code: '123456' })).toBe(true);
    expect(check({ code: '123456', recoveryCode: 'abcd-efgh' })).toBe(false);
    expect(check({ code: 123456 })).toBe(false);
    expect(VerifyRequest.safeParse({ code: '123456', extra: 1 }).success).toBe(check({ code: '123456', extra: 1 }));
  });

  it('leaves a schema zod must validate itself (a refinement) to zod', () => {
    expect(compiledCheck(z.strictObject({ a: z.string().refine((value) => value !== 'x') }))).toBeUndefined();
  });

  it('is what parseBody validates with once in use, and zod still words a refusal', () => {
    const schema = z.strictObject({ a: z.string() });
    expect(compiledCheckOf(schema)).toBeUndefined();
    useCompiledCheck(schema, (value) => (value as { a?: unknown }).a !== 'refused by the check');
    // The check decides: a body zod refuses but the check accepts is taken as it is.
    expect(parseBody(jsonEvent({ a: 1 }), schema)).toEqual({ a: 1 });
    // A refusal is worded by zod, or as a mismatch when zod would have taken it.
    expect(problemOf(() => parseBody(jsonEvent({ a: 'refused by the check', b: 2 }), schema))).toMatch(/b/);
    expect(problemOf(() => parseBody(jsonEvent({ a: 'refused by the check' }), schema))).toBe('The body does not match the schema.');
  });

  it('checks path parameters with it too', () => {
    const schema = routeById('removeAuthenticator').pathParameters!;
    const check = compiledCheck(schema)!;
    expect(check({ id: 'abc' })).toBe(schema.safeParse({ id: 'abc' }).success);
    const own = z.strictObject({ id: z.string() });
    useCompiledCheck(own, () => false);
    expect(checkedPathParameters(jsonEvent({}, { id: 'abc' }), own)).toBeUndefined();
  });
});
