import type { z } from 'zod';
import type { ProblemCode } from './problems.js';
import {
  AuthenticatorPathParameters,
  AuthenticatorResponse,
  AuthenticatorsLeftResponse,
  ChallengeResponse,
  ConfirmEnrollmentRequest,
  ConfirmEmailEnrollmentRequest,
  ConfirmEnrollmentResponse,
  ConfirmRegistrationRequest,
  DeviceChallengeRequest,
  DeviceChallengeResponse,
  DevicePathParameters,
  DevicesResponse,
  DisableResponse,
  EmailCodeSentResponse,
  EmailEnabledResponse,
  EmptyRequest,
  EnrollmentResponse,
  JwksResponse,
  KeyRegisteredResponse,
  MfaStatusResponse,
  OpenIdConfigurationResponse,
  OptionalProofRequest,
  RecoveryCodesResponse,
  RegistrationOptionsResponse,
  RenameAuthenticatorRequest,
  SecondFactorRequest,
  VerifyRequest,
  VerifyResponse,
} from './schemas.js';
import { AdminActionRequest, AdminMfaStatusResponse, AdminUserPathParameters } from './admin-schemas.js';

export type TableAction = 'dynamodb:GetItem' | 'dynamodb:UpdateItem' | 'dynamodb:PutItem' | 'dynamodb:DeleteItem';
export type SecretKeyAction = 'kms:Encrypt' | 'kms:Decrypt';
export type SigningKeyAction = 'kms:Sign' | 'kms:GetPublicKey';
export type MailAction = 'ses:SendEmail';

/** What a route's function may touch: its IAM policy and its required configuration follow from this. */
export interface RouteAccess {
  table: readonly TableAction[];
  /** Actions on the secret key, always under one of its encryption-context purposes (`totp-secret`, `email-code`). */
  secretKey: readonly SecretKeyAction[];
  signingKey: readonly SigningKeyAction[];
  /** Sending mail (SES), from the deployment's `emailFrom` address only. */
  mail: readonly MailAction[];
}

export interface RouteDefinition {
  id: string;
  method: 'GET' | 'POST' | 'PATCH';
  /** API Gateway's route path; `{name}` segments are path parameters (see `pathParameters`). */
  path: string;
  /** File under functions/handlers/ (without extension) that exports `handler`. */
  handler: string;
  /**
   * `first-factor`: the user's JWT (API Gateway's JWT authorizer). `iam`: an operator's SigV4
   * signature (API Gateway's IAM authorizer), never a user's token.
   */
  auth: 'public' | 'first-factor' | 'iam';
  summary: string;
  request?: z.ZodType;
  /** The schema of the path's `{name}` parameters, when it has any. */
  pathParameters?: z.ZodObject;
  successStatus: 200 | 201;
  response: z.ZodType;
  /** Problems this route can answer with besides the ones every route shares. */
  problems: readonly ProblemCode[];
  access: RouteAccess;
}

const CODE_CHECK_PROBLEMS = ['invalid_request', 'invalid_code', 'too_many_attempts', 'payload_too_large', 'unsupported_media_type'] as const;
/** Routes that take any proof of a current factor, a key's assertion included. */
const PROOF_PROBLEMS = [...CODE_CHECK_PROBLEMS, 'invalid_credential'] as const;
/** Operator routes: the user's item is read and written by the operator's call (the user's token plays no part). */
const ADMIN_PROBLEMS = ['invalid_request', 'forbidden', 'user_not_found'] as const;
const ADMIN_BODY_PROBLEMS = [...ADMIN_PROBLEMS, 'payload_too_large', 'unsupported_media_type'] as const;

/** Checking a proof reads the item again after a conflicting write (GetItem) and may migrate a version-1 item. */
const PROOF_TABLE_ACCESS = ['dynamodb:GetItem', 'dynamodb:UpdateItem'] as const;
/**
 * Adding a key also puts its credential id's uniqueness item, removing one deletes it, each in
 * one TransactWriteItems with the user's item (IAM authorises each of its actions by its own name).
 */
const KEY_ADDING_TABLE_ACCESS = [...PROOF_TABLE_ACCESS, 'dynamodb:PutItem'] as const;
const KEY_REMOVING_TABLE_ACCESS = [...PROOF_TABLE_ACCESS, 'dynamodb:DeleteItem'] as const;

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
    access: { table: [], secretKey: [], signingKey: [], mail: [] },
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
    access: { table: [], secretKey: [], signingKey: ['kms:GetPublicKey'], mail: [] },
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
    access: { table: ['dynamodb:GetItem'], secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'startTotpEnrollment',
    method: 'POST',
    path: '/v1/mfa/totp/enrollment',
    handler: 'start-totp-enrollment',
    auth: 'first-factor',
    summary:
      'Start (or restart) setting up an authenticator app: a new secret, its otpauth URI and QR code, valid 10 minutes. While MFA is on (one more app), the body carries a proof of a current factor.',
    request: OptionalProofRequest,
    successStatus: 201,
    response: EnrollmentResponse,
    problems: [...PROOF_PROBLEMS, 'totp_already_enabled', 'step_up_required', 'mfa_not_enabled', 'too_many_authenticators'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Encrypt', 'kms:Decrypt'], signingKey: [], mail: [] },
  },
  {
    id: 'confirmTotpEnrollment',
    method: 'POST',
    path: '/v1/mfa/totp/enrollment/confirm',
    handler: 'confirm-totp-enrollment',
    auth: 'first-factor',
    summary: 'Confirm enrollment with a code from the app (and optionally name it); returns recovery codes when this is the first method.',
    request: ConfirmEnrollmentRequest,
    successStatus: 200,
    response: ConfirmEnrollmentResponse,
    problems: [...CODE_CHECK_PROBLEMS, 'enrollment_not_found', 'totp_already_enabled', 'step_up_required', 'too_many_authenticators'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Decrypt'], signingKey: [], mail: [] },
  },
  {
    id: 'verifyMfa',
    method: 'POST',
    path: '/v1/mfa/verify',
    handler: 'verify-mfa',
    auth: 'first-factor',
    summary:
      "Second step of sign-in: check a TOTP code, a recovery code, a security key or a remembered browser's signature and issue a signed MFA assertion; with a real factor, optionally remember this browser (`rememberDevice`).",
    request: VerifyRequest,
    successStatus: 200,
    response: VerifyResponse,
    problems: [...PROOF_PROBLEMS, 'mfa_not_enabled'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Decrypt'], signingKey: ['kms:Sign'], mail: [] },
  },
  {
    id: 'regenerateRecoveryCodes',
    method: 'POST',
    path: '/v1/mfa/recovery-codes',
    handler: 'regenerate-recovery-codes',
    auth: 'first-factor',
    summary: 'Replace the recovery codes with a fresh set of 10; needs a proof of a current factor.',
    request: SecondFactorRequest,
    successStatus: 200,
    response: RecoveryCodesResponse,
    problems: [...PROOF_PROBLEMS, 'mfa_not_enabled'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Decrypt'], signingKey: [], mail: [] },
  },
  {
    id: 'disableTotp',
    method: 'POST',
    path: '/v1/mfa/totp/disable',
    handler: 'disable-totp',
    auth: 'first-factor',
    summary: 'Remove every authenticator app; the recovery codes go too when no security key remains. Needs a proof of a current factor.',
    request: SecondFactorRequest,
    successStatus: 200,
    response: DisableResponse,
    problems: [...PROOF_PROBLEMS, 'mfa_not_enabled'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Decrypt'], signingKey: [], mail: [] },
  },
  {
    id: 'startWebAuthnRegistration',
    method: 'POST',
    path: '/v1/mfa/webauthn/registration',
    handler: 'start-webauthn-registration',
    auth: 'first-factor',
    summary: 'Start registering a security key or passkey: creation options valid 5 minutes. While MFA is on, the body carries a proof of a current factor.',
    request: OptionalProofRequest,
    successStatus: 201,
    response: RegistrationOptionsResponse,
    problems: [...PROOF_PROBLEMS, 'step_up_required', 'mfa_not_enabled', 'too_many_authenticators'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Decrypt'], signingKey: [], mail: [] },
  },
  {
    id: 'confirmWebAuthnRegistration',
    method: 'POST',
    path: '/v1/mfa/webauthn/registration/confirm',
    handler: 'confirm-webauthn-registration',
    auth: 'first-factor',
    summary: "Finish registering a key with the browser's credential (and optionally name it); returns recovery codes when this is the first method.",
    request: ConfirmRegistrationRequest,
    successStatus: 200,
    response: KeyRegisteredResponse,
    problems: [
      'invalid_request',
      'payload_too_large',
      'unsupported_media_type',
      'invalid_credential',
      'registration_not_found',
      'credential_already_registered',
      'too_many_authenticators',
      'step_up_required',
    ],
    access: { table: KEY_ADDING_TABLE_ACCESS, secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'startWebAuthnChallenge',
    method: 'POST',
    path: '/v1/mfa/webauthn/challenge',
    handler: 'start-webauthn-challenge',
    auth: 'first-factor',
    summary: "A challenge for one of the user's security keys, valid 5 minutes: its answer is a `{webauthn}` proof.",
    request: EmptyRequest,
    successStatus: 201,
    response: ChallengeResponse,
    problems: ['invalid_request', 'payload_too_large', 'unsupported_media_type', 'webauthn_not_enabled'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'startEmailEnrollment',
    method: 'POST',
    path: '/v1/mfa/email/enrollment',
    handler: 'start-email-enrollment',
    auth: 'first-factor',
    summary:
      "Start adding email codes: an 8-digit code, valid 10 minutes, to the token's verified `email`. While MFA is on, the body carries a proof of a current factor. 404 when the deployment does not offer email codes.",
    request: OptionalProofRequest,
    successStatus: 201,
    response: EmailCodeSentResponse,
    problems: [
      ...PROOF_PROBLEMS,
      'not_found',
      'email_not_verified',
      'email_already_enabled',
      'step_up_required',
      'mfa_not_enabled',
      'too_many_authenticators',
      'too_many_emails',
    ],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Encrypt', 'kms:Decrypt'], signingKey: [], mail: ['ses:SendEmail'] },
  },
  {
    id: 'confirmEmailEnrollment',
    method: 'POST',
    path: '/v1/mfa/email/enrollment/confirm',
    handler: 'confirm-email-enrollment',
    auth: 'first-factor',
    summary: 'Confirm email codes with the code the mail carried (and optionally name the method); returns recovery codes when this is the first method.',
    request: ConfirmEmailEnrollmentRequest,
    successStatus: 200,
    response: EmailEnabledResponse,
    problems: [...CODE_CHECK_PROBLEMS, 'not_found', 'email_already_enabled', 'step_up_required', 'too_many_authenticators'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Decrypt'], signingKey: [], mail: [] },
  },
  {
    id: 'startEmailChallenge',
    method: 'POST',
    path: '/v1/mfa/email/challenge',
    handler: 'start-email-challenge',
    auth: 'first-factor',
    summary:
      "Email a new code for this session (replacing this session's pending one), valid 10 minutes: its answer is an `{emailCode}` proof. At most 5 mails per user in 15 minutes.",
    request: EmptyRequest,
    successStatus: 201,
    response: EmailCodeSentResponse,
    problems: ['invalid_request', 'payload_too_large', 'unsupported_media_type', 'not_found', 'email_not_enabled', 'too_many_emails'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: ['kms:Encrypt'], signingKey: [], mail: ['ses:SendEmail'] },
  },
  {
    id: 'startDeviceChallenge',
    method: 'POST',
    path: '/v1/mfa/device/challenge',
    handler: 'start-device-challenge',
    auth: 'first-factor',
    summary:
      "A challenge for a browser remembered for this app, valid 2 minutes and bound to this sign-in's session (replacing its pending one): its signature is a `{device}` proof for POST /v1/mfa/verify.",
    request: DeviceChallengeRequest,
    successStatus: 201,
    response: DeviceChallengeResponse,
    problems: ['invalid_request', 'payload_too_large', 'unsupported_media_type', 'device_not_found'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'forgetDevice',
    method: 'POST',
    path: '/v1/mfa/devices/{id}/forget',
    handler: 'forget-device',
    auth: 'first-factor',
    summary: 'Forget one remembered browser (of any app): its next sign-in asks for a second factor. No proof needed: forgetting only takes access away.',
    request: EmptyRequest,
    pathParameters: DevicePathParameters,
    successStatus: 200,
    response: DevicesResponse,
    problems: ['invalid_request', 'payload_too_large', 'unsupported_media_type', 'device_not_found'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'forgetAllDevices',
    method: 'POST',
    path: '/v1/mfa/devices/forget-all',
    handler: 'forget-all-devices',
    auth: 'first-factor',
    summary: 'Forget every remembered browser, of every app. No proof needed.',
    request: EmptyRequest,
    successStatus: 200,
    response: DevicesResponse,
    problems: ['invalid_request', 'payload_too_large', 'unsupported_media_type'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'renameAuthenticator',
    method: 'PATCH',
    path: '/v1/mfa/authenticators/{id}',
    handler: 'rename-authenticator',
    auth: 'first-factor',
    summary: 'Rename an authenticator (a name grants nothing: no proof needed).',
    request: RenameAuthenticatorRequest,
    pathParameters: AuthenticatorPathParameters,
    successStatus: 200,
    response: AuthenticatorResponse,
    problems: ['invalid_request', 'payload_too_large', 'unsupported_media_type', 'authenticator_not_found'],
    access: { table: PROOF_TABLE_ACCESS, secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'removeAuthenticator',
    method: 'POST',
    path: '/v1/mfa/authenticators/{id}/remove',
    handler: 'remove-authenticator',
    auth: 'first-factor',
    summary: 'Remove an authenticator with a proof of a current factor; removing the last turns MFA off and deletes the recovery codes.',
    request: SecondFactorRequest,
    pathParameters: AuthenticatorPathParameters,
    successStatus: 200,
    response: AuthenticatorsLeftResponse,
    problems: [...PROOF_PROBLEMS, 'mfa_not_enabled', 'authenticator_not_found'],
    access: { table: KEY_REMOVING_TABLE_ACCESS, secretKey: ['kms:Decrypt'], signingKey: [], mail: [] },
  },
  {
    id: 'adminGetMfaStatus',
    method: 'GET',
    path: '/admin/v1/users/{userId}/mfa',
    handler: 'admin-get-mfa-status',
    auth: 'iam',
    summary: "Support staff: a user's MFA state with its authenticators, recovery codes left and lockout (IAM-authorised).",
    pathParameters: AdminUserPathParameters,
    successStatus: 200,
    response: AdminMfaStatusResponse,
    problems: ADMIN_PROBLEMS,
    access: { table: ['dynamodb:GetItem'], secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'adminResetMfa',
    method: 'POST',
    path: '/admin/v1/users/{userId}/mfa/reset',
    handler: 'admin-reset-mfa',
    auth: 'iam',
    summary:
      'Support staff: remove every authenticator and recovery code and clear the lockout, for a user who lost every factor; the user enrolls afresh (IAM-authorised, audited with the reason).',
    request: AdminActionRequest,
    pathParameters: AdminUserPathParameters,
    successStatus: 200,
    response: AdminMfaStatusResponse,
    problems: ADMIN_BODY_PROBLEMS,
    access: { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], secretKey: [], signingKey: [], mail: [] },
  },
  {
    id: 'adminUnlockMfa',
    method: 'POST',
    path: '/admin/v1/users/{userId}/mfa/unlock',
    handler: 'admin-unlock-mfa',
    auth: 'iam',
    summary: "Support staff: clear a user's lockout only (IAM-authorised, audited with the reason).",
    request: AdminActionRequest,
    pathParameters: AdminUserPathParameters,
    successStatus: 200,
    response: AdminMfaStatusResponse,
    problems: ADMIN_BODY_PROBLEMS,
    access: { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], secretKey: [], signingKey: [], mail: [] },
  },
] as const satisfies readonly RouteDefinition[];

export type RouteId = (typeof ROUTES)[number]['id'];

export function routeById(id: RouteId): RouteDefinition {
  return ROUTES.find((route) => route.id === id)!;
}

/** The schemas a route validates input with: its request body's and its path parameters'. */
export function inputSchemasOf(route: RouteDefinition): z.ZodType[] {
  return [route.request, route.pathParameters].filter((schema): schema is z.ZodType => schema !== undefined);
}
