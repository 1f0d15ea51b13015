import {
  AuthenticatorNotFoundError,
  ContentionError,
  CredentialAlreadyRegisteredError,
  DeviceNotFoundError,
  DeviceProofNotAcceptedError,
  EmailAlreadyEnabledError,
  EmailNotEnabledError,
  EmailNotVerifiedError,
  EnrollmentNotFoundError,
  InvalidCodeError,
  InvalidCredentialError,
  MethodNotOfferedError,
  MfaNotEnabledError,
  RegistrationNotFoundError,
  RememberDeviceRefusedError,
  StepUpRequiredError,
  TooManyAttemptsError,
  TooManyAuthenticatorsError,
  TooManyEmailsError,
  TotpAlreadyEnabledError,
  OperatorNotAllowedError,
  UserNotFoundError,
  WebAuthnNotEnabledError,
} from '../domain/errors.js';
import { MailNotSentError } from '../ports/mailer.js';

/** Errors that only exist at the HTTP edge. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}
export class UnsupportedMediaTypeError extends Error {
  override readonly name = 'UnsupportedMediaTypeError';
}
export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}
export class RouteNotFoundError extends Error {
  override readonly name = 'RouteNotFoundError';
}
/** A request addressed to another host name than the server's own (the local server only). */
export class MisdirectedRequestError extends Error {
  override readonly name = 'MisdirectedRequestError';
}
export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
  constructor(readonly allow: string[]) {
    super('This method is not allowed on this resource.');
  }
}

export interface ProblemType {
  status: number;
  title: string;
  /** Shown as `detail` when the error's own message is not meant for clients. */
  detail: string;
}

/**
 * The one table of problem codes: every error a client can see, its status and its words.
 * The OpenAPI document and the typed client are generated from it.
 */
export const PROBLEMS = {
  invalid_request: { status: 400, title: 'Invalid request', detail: 'The request is malformed or does not match the schema.' },
  invalid_code: { status: 400, title: 'Invalid code', detail: 'The code is wrong or has already been used.' },
  invalid_credential: { status: 400, title: 'Invalid credential', detail: 'The security key or remembered browser response is not valid for a pending challenge of this user.' },
  unauthorized: { status: 401, title: 'Unauthorized', detail: 'A valid first-factor bearer token is required.' },
  forbidden: { status: 403, title: 'Forbidden', detail: 'This principal may not call the operator routes: the deployment does not name it.' },
  step_up_required: { status: 403, title: 'Step-up required', detail: 'MFA is on: send a proof of a current factor (code, recoveryCode, webauthn or emailCode) with this request.' },
  not_found: { status: 404, title: 'Not found', detail: 'There is no such resource.' },
  enrollment_not_found: { status: 404, title: 'Enrollment not found', detail: 'There is no pending TOTP enrollment, or it has expired. Start a new one.' },
  registration_not_found: { status: 404, title: 'Registration not found', detail: 'There is no pending security-key registration, or it has expired or been used. Start a new one.' },
  authenticator_not_found: { status: 404, title: 'Authenticator not found', detail: 'The user has no authenticator with this id.' },
  device_not_found: { status: 404, title: 'Device not found', detail: 'There is no such remembered browser for this app: it is unknown, expired or forgotten.' },
  user_not_found: { status: 404, title: 'User not found', detail: 'There is no MFA state for this user.' },
  method_not_allowed: { status: 405, title: 'Method not allowed', detail: 'This method is not allowed on this resource.' },
  totp_already_enabled: { status: 409, title: 'TOTP already enabled', detail: 'TOTP is already enabled for this user.' },
  mfa_not_enabled: { status: 409, title: 'MFA not enabled', detail: 'Two-factor authentication is not enabled for this user.' },
  webauthn_not_enabled: { status: 409, title: 'No security key', detail: 'The user has no security key.' },
  credential_already_registered: { status: 409, title: 'Credential already registered', detail: 'This security key is already registered for this user.' },
  email_not_verified: { status: 409, title: 'Email not verified', detail: 'The sign-in token carries no verified email address (an `email` claim with `email_verified` true).' },
  email_already_enabled: { status: 409, title: 'Email already enabled', detail: 'Email codes are already enabled for this user.' },
  email_not_enabled: { status: 409, title: 'Email not enabled', detail: 'The user has not enabled email codes.' },
  too_many_authenticators: { status: 409, title: 'Too many authenticators', detail: 'A user has at most 10 authenticators. Remove one first.' },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'The request body exceeds 16 KB.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', detail: 'Send the body as application/json.' },
  misdirected_request: { status: 421, title: 'Misdirected request', detail: 'This server only answers requests addressed to localhost or 127.0.0.1 with its port.' },
  too_many_attempts: { status: 429, title: 'Too many attempts', detail: 'Too many failed attempts. Wait for the time in Retry-After, then try again.' },
  too_many_emails: { status: 429, title: 'Too many emails', detail: 'At most 5 codes are sent by email per 15 minutes. Wait for the time in Retry-After, then try again.' },
  internal_error: { status: 500, title: 'Internal error', detail: 'Something went wrong on our side. Nothing was changed.' },
  service_unavailable: { status: 503, title: 'Service unavailable', detail: 'A dependency is unavailable. Retry the request shortly.' },
} as const satisfies Record<string, ProblemType>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface Problem {
  code: ProblemCode;
  /** Detail safe to show a client; defaults to the table's. */
  detail?: string | undefined;
  headers?: Record<string, string> | undefined;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Which error class answers with which problem code; the first match wins. */
const ERROR_CODES: ReadonlyArray<readonly [ErrorClass, ProblemCode]> = [
  [InvalidRequestError, 'invalid_request'],
  [DeviceProofNotAcceptedError, 'invalid_request'],
  [RememberDeviceRefusedError, 'invalid_request'],
  [DeviceNotFoundError, 'device_not_found'],
  [InvalidCodeError, 'invalid_code'],
  [InvalidCredentialError, 'invalid_credential'],
  [StepUpRequiredError, 'step_up_required'],
  [OperatorNotAllowedError, 'forbidden'],
  [RegistrationNotFoundError, 'registration_not_found'],
  [AuthenticatorNotFoundError, 'authenticator_not_found'],
  [UserNotFoundError, 'user_not_found'],
  [WebAuthnNotEnabledError, 'webauthn_not_enabled'],
  [CredentialAlreadyRegisteredError, 'credential_already_registered'],
  [TooManyAuthenticatorsError, 'too_many_authenticators'],
  [UnauthorizedError, 'unauthorized'],
  [RouteNotFoundError, 'not_found'],
  [EnrollmentNotFoundError, 'enrollment_not_found'],
  [MethodNotAllowedError, 'method_not_allowed'],
  [MisdirectedRequestError, 'misdirected_request'],
  [TotpAlreadyEnabledError, 'totp_already_enabled'],
  [MfaNotEnabledError, 'mfa_not_enabled'],
  [PayloadTooLargeError, 'payload_too_large'],
  [UnsupportedMediaTypeError, 'unsupported_media_type'],
  [TooManyAttemptsError, 'too_many_attempts'],
  [ContentionError, 'service_unavailable'],
  [MailNotSentError, 'service_unavailable'],
  [EmailNotVerifiedError, 'email_not_verified'],
  [EmailAlreadyEnabledError, 'email_already_enabled'],
  [EmailNotEnabledError, 'email_not_enabled'],
  [TooManyEmailsError, 'too_many_emails'],
  [MethodNotOfferedError, 'not_found'],
];

/** Maps any thrown value to the problem a client sees. Unknown errors never leak their message. */
export function problemFor(error: unknown): Problem {
  const code = ERROR_CODES.find(([errorClass]) => error instanceof errorClass)?.[1] ?? (isDependencyFailure(error) ? 'service_unavailable' : 'internal_error');
  switch (code) {
    case 'invalid_request':
      // The edge's own messages, and the device rules' (fixed texts that echo nothing of the request).
      return { code, detail: (error as Error).message || undefined };
    case 'too_many_attempts':
    case 'too_many_emails':
      return { code, headers: { 'Retry-After': String((error as TooManyAttemptsError | TooManyEmailsError).retryAfterSeconds) } };
    case 'method_not_allowed':
      return { code, headers: { Allow: (error as MethodNotAllowedError).allow.join(', ') } };
    case 'service_unavailable':
      return { code, headers: { 'Retry-After': '1' } };
    default:
      return { code };
  }
}

const TRANSPORT_FAILURES = ['TimeoutError', 'AbortError', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'];

/** AWS SDK service and transport errors: throttling, 5xx, timeouts, refused connections. */
function isDependencyFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { $fault?: unknown; $metadata?: unknown; name?: unknown; code?: unknown };
  if (candidate.$fault !== undefined || candidate.$metadata !== undefined) return true;
  // Node's socket errors are plain Errors (name 'Error') that say what happened in `code`.
  return [candidate.name, candidate.code].some((value) => TRANSPORT_FAILURES.includes(String(value)));
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemBody(problem: Problem): { type: string; title: string; status: number; detail: string; code: ProblemCode } {
  const known = PROBLEMS[problem.code];
  return {
    type: `urn:serverless-mfa:problem:${problem.code}`,
    title: known.title,
    status: known.status,
    detail: problem.detail ?? known.detail,
    code: problem.code,
  };
}
