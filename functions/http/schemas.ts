import { z } from 'zod';

/**
 * Request and response schemas: the handlers validate with them, and the OpenAPI document
 * and typed client are generated from them. Objects are strict: unknown fields are refused.
 */
const Code = z.string().max(64).meta({ description: 'The 6-digit code the authenticator app shows now.', example: '492039' });
const RecoveryCode = z
  .string()
  .max(64)
  .meta({ description: 'One unused recovery code; case, spaces and hyphens are ignored.', example: '7Q2M-KD9X-4HWR-P0ZA' });
const Timestamp = z.iso.datetime();

export const EmptyRequest = z.strictObject({}).meta({ id: 'EmptyRequest' });
export const ConfirmEnrollmentRequest = z.strictObject({ code: Code }).meta({ id: 'ConfirmEnrollmentRequest' });
export const SecondFactorRequest = z
  .union([z.strictObject({ code: Code }), z.strictObject({ recoveryCode: RecoveryCode })])
  .meta({ id: 'SecondFactorRequest', description: 'Exactly one of `code` (TOTP) or `recoveryCode`.' });

export const MfaStatusResponse = z
  .strictObject({
    mfaEnabled: z.boolean(),
    methods: z.strictObject({
      totp: z.strictObject({ enabled: z.boolean(), enrolledAt: Timestamp.nullable(), lastUsedAt: Timestamp.nullable() }),
    }),
    recoveryCodes: z.strictObject({ remaining: z.int().min(0) }),
  })
  .meta({ id: 'MfaStatus' });

export const EnrollmentResponse = z
  .strictObject({
    secret: z.string().regex(/^[A-Z2-7]+$/).meta({ description: 'Base32 secret without padding, for manual entry.' }),
    otpauthUri: z.string().startsWith('otpauth://totp/'),
    qrCode: z.string().startsWith('data:image/png;base64,').meta({ description: 'PNG QR code of exactly `otpauthUri`.' }),
    expiresAt: Timestamp,
  })
  .meta({ id: 'TotpEnrollment' });

const RecoveryCodes = z.array(z.string()).length(10).meta({ description: 'Shown once; store them safely.' });

export const ConfirmEnrollmentResponse = z
  .strictObject({ enabled: z.literal(true), reauthenticate: z.literal(true), recoveryCodes: RecoveryCodes.optional() })
  .meta({ id: 'TotpEnrollmentConfirmed' });

export const VerifyResponse = z
  .strictObject({
    assertion: z.string().meta({ description: 'ES256 JWT (iss, sub, aud, iat, exp, jti, amr) for the app backend to verify against the JWKS.' }),
    method: z.enum(['totp', 'recovery_code']),
    expiresAt: Timestamp,
    recoveryCodesRemaining: z.int().min(0),
  })
  .meta({ id: 'MfaVerified' });

export const RecoveryCodesResponse = z.strictObject({ recoveryCodes: RecoveryCodes }).meta({ id: 'RecoveryCodes' });
export const DisableResponse = z.strictObject({ mfaEnabled: z.literal(false) }).meta({ id: 'TotpDisabled' });

export const OpenIdConfigurationResponse = z
  .looseObject({
    issuer: z.url(),
    jwks_uri: z.url(),
    id_token_signing_alg_values_supported: z.array(z.string()),
  })
  .meta({ id: 'OpenIdConfiguration' });

export const JwksResponse = z
  .strictObject({
    keys: z.array(z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), kid: z.string(), alg: z.literal('ES256'), use: z.literal('sig') })),
  })
  .meta({ id: 'JsonWebKeySet' });

export const ProblemResponse = z
  .strictObject({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string().meta({ description: 'Stable, snake_case error code.' }),
  })
  .meta({ id: 'Problem' });
