import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PROBLEM_CONTENT_TYPE, problemBody, problemFor } from './problems.js';

/** Responses carry secrets (TOTP secrets, recovery codes, assertions): never cache or sniff them. */
const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

export function respond(status: number, body: unknown, contentType: string, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'Content-Type': contentType, ...SECURITY_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/**
 * The problem+json response for an error (details only for 4xx) and, for a 5xx, what may be
 * logged about it: the problem code and the error's name, never its message.
 */
export function problemResult(error: unknown): { response: APIGatewayProxyStructuredResultV2; failure?: { code: string; errorName: string } } {
  const problem = problemFor(error);
  const body = problemBody(problem);
  const response = respond(body.status, body, PROBLEM_CONTENT_TYPE, problem.headers);
  return body.status >= 500 ? { response, failure: { code: problem.code, errorName: (error as Error)?.name ?? typeof error } } : { response };
}
