import type { z } from 'zod';
import type { ProblemCode } from './problems.js';
import {
  ConfirmEnrollmentRequest,
  ConfirmEnrollmentResponse,
  DisableResponse,
  EmptyRequest,
  EnrollmentResponse,
  JwksResponse,
  MfaStatusResponse,
  OpenIdConfigurationResponse,
  RecoveryCodesResponse,
  SecondFactorRequest,
  VerifyResponse,
} from './schemas.js';

export type TableAction = 'dynamodb:GetItem' | 'dynamodb:UpdateItem';
export type SecretKeyAction = 'kms:Encrypt' | 'kms:Decrypt';
export type SigningKeyAction = 'kms:Sign' | 'kms:GetPublicKey';

/** What a route's function may touch: its IAM policy and its required configuration follow from this. */
export interface RouteAccess {
  table: readonly TableAction[];
  /** Actions on the TOTP-secret key, always under the `totp-secret` encryption-context purpose. */
  secretKey: readonly SecretKeyAction[];
  signingKey: readonly SigningKeyAction[];
}

export interface RouteDefinition {
  id: string;
  method: 'GET' | 'POST';
  path: string;
  /** File under functions/handlers/ (without extension) that exports `handler`. */
  handler: string;
  auth: 'public' | 'first-factor' | 'iam';
  summary: string;
  request?: z.ZodType;
  successStatus: 200 | 201;
  response: z.ZodType;
  /** Problems this route can answer with besides the ones every route shares. */
  problems: readonly ProblemCode[];
  access: RouteAccess;
}

const CODE_CHECK_PROBLEMS = ['invalid_request', 'invalid_code', 'too_many_attempts', 'payload_too_large', 'unsupported_media_type'] as const;

/**
 * The one route table. The local server, the CDK stack, the OpenAPI generator and the tests
 * all read it: adding a route is one entry here plus its handler file.
 */
export const ROUTES = [
  {
    id: 'getOpenIdConfiguration',
    method: 'GET',
    path: '/.well-known/openid-configuration',
    handler: 'get-openid-configuration',
    auth: 'public',
    summary: 'Discovery document for verifying MFA assertions.',
    successStatus: 200,
    response: OpenIdConfigurationResponse,
    problems: [],
    access: { table: [], secretKey: [], signingKey: [] },
  },
  {
    id: 'getJwks',
    method: 'GET',
    path: '/.well-known/jwks.json',
    handler: 'get-jwks',
    auth: 'public',
    summary: 'Public keys that sign MFA assertions.',
    successStatus: 200,
    response: JwksResponse,
    problems: [],
    access: { table: [], secretKey: [], signingKey: ['kms:GetPublicKey'] },
  },
  {
    id: 'getMfaStatus',
    method: 'GET',
    path: '/v1/mfa',
    handler: 'get-mfa-status',
    auth: 'first-factor',
    summary: "The signed-in user's MFA state.",
    successStatus: 200,
    response: MfaStatusResponse,
    problems: [],
    access: { table: ['dynamodb:GetItem'], secretKey: [], signingKey: [] },
  },
  {
    id: 'startTotpEnrollment',
    method: 'POST',
    path: '/v1/mfa/totp/enrollment',
    handler: 'start-totp-enrollment',
    auth: 'first-factor',
    summary: 'Start (or restart) TOTP enrollment: a new secret, its otpauth URI and QR code, valid 10 minutes.',
    request: EmptyRequest,
    successStatus: 201,
    response: EnrollmentResponse,
    problems: ['invalid_request', 'payload_too_large', 'unsupported_media_type', 'totp_already_enabled'],
    access: { table: ['dynamodb:UpdateItem'], secretKey: ['kms:Encrypt'], signingKey: [] },
  },
  {
    id: 'confirmTotpEnrollment',
    method: 'POST',
    path: '/v1/mfa/totp/enrollment/confirm',
    handler: 'confirm-totp-enrollment',
    auth: 'first-factor',
    summary: 'Confirm enrollment with a code from the app; returns recovery codes when this is the first method.',
    request: ConfirmEnrollmentRequest,
    successStatus: 200,
    response: ConfirmEnrollmentResponse,
    problems: [...CODE_CHECK_PROBLEMS, 'enrollment_not_found', 'totp_already_enabled'],
    access: { table: ['dynamodb:UpdateItem'], secretKey: ['kms:Decrypt'], signingKey: [] },
  },
  {
    id: 'verifyMfa',
    method: 'POST',
    path: '/v1/mfa/verify',
    handler: 'verify-mfa',
    auth: 'first-factor',
    summary: 'Second step of sign-in: check a TOTP or recovery code and issue a signed MFA assertion.',
    request: SecondFactorRequest,
    successStatus: 200,
    response: VerifyResponse,
    problems: [...CODE_CHECK_PROBLEMS, 'mfa_not_enabled'],
    access: { table: ['dynamodb:UpdateItem'], secretKey: ['kms:Decrypt'], signingKey: ['kms:Sign'] },
  },
  {
    id: 'regenerateRecoveryCodes',
    method: 'POST',
    path: '/v1/mfa/recovery-codes',
    handler: 'regenerate-recovery-codes',
    auth: 'first-factor',
    summary: 'Replace the recovery codes with a fresh set of 10; needs a current code.',
    request: SecondFactorRequest,
    successStatus: 200,
    response: RecoveryCodesResponse,
    problems: [...CODE_CHECK_PROBLEMS, 'mfa_not_enabled'],
    access: { table: ['dynamodb:UpdateItem'], secretKey: ['kms:Decrypt'], signingKey: [] },
  },
  {
    id: 'disableTotp',
    method: 'POST',
    path: '/v1/mfa/totp/disable',
    handler: 'disable-totp',
    auth: 'first-factor',
    summary: 'Turn TOTP off and delete its secret and the recovery codes; needs a current code.',
    request: SecondFactorRequest,
    successStatus: 200,
    response: DisableResponse,
    problems: [...CODE_CHECK_PROBLEMS, 'mfa_not_enabled'],
    access: { table: ['dynamodb:UpdateItem'], secretKey: ['kms:Decrypt'], signingKey: [] },
  },
] as const satisfies readonly RouteDefinition[];

export type RouteId = (typeof ROUTES)[number]['id'];

export function routeById(id: RouteId): RouteDefinition {
  return ROUTES.find((route) => route.id === id)!;
}
