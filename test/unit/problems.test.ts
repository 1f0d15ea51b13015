import { ThrottlingException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { InvalidCodeError, TooManyAttemptsError } from '../../functions/domain/errors.js';
import { problemResponse } from '../../functions/http/lambda-handler.js';
import { InvalidRequestError, PROBLEMS } from '../../functions/http/problems.js';

describe('problem responses', () => {
  it('maps domain errors to their stable code and status as problem+json', () => {
    const response = problemResponse(new InvalidCodeError());
    expect(response.statusCode).toBe(400);
    expect(response.headers).toMatchObject({ 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' });
    expect(JSON.parse(response.body!)).toEqual({
      type: 'urn:serverless-mfa:problem:invalid_code',
      title: PROBLEMS.invalid_code.title,
      status: 400,
      detail: PROBLEMS.invalid_code.detail,
      code: 'invalid_code',
    });
  });

  it('puts the lockout remaining time in Retry-After', () => {
    const response = problemResponse(new TooManyAttemptsError(42));
    expect(response.statusCode).toBe(429);
    expect(response.headers).toMatchObject({ 'Retry-After': '42' });
  });

  it('answers 503 for a throttled AWS dependency without leaking its message', () => {
    const throttled = new ThrottlingException({ message: 'Rate exceeded for table mfa-prod arn:aws:dynamodb:...', $metadata: {} });
    const response = problemResponse(throttled);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
    expect(response.body).not.toContain('mfa-prod');
    expect(JSON.parse(response.body!).code).toBe('service_unavailable');
  });

  it('answers 500 for an unknown error with a generic detail and no stack', () => {
    const response = problemResponse(new TypeError("Cannot read properties of undefined (reading 'secret')"));
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/secret|TypeError|at /);
  });

  it('shows a client its own validation detail, which names fields but never values', () => {
    const response = problemResponse(new InvalidRequestError('The body does not match the schema (body.code: invalid_type).'));
    expect(JSON.parse(response.body!).detail).toContain('body.code');
  });
});
