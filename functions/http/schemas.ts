// The namespace import lets esbuild drop what is unused (all of zod's locales: about 350 KB per bundle).
import * as z from 'zod';

/**
 * Request and response schemas: the handlers validate with them, and the OpenAPI document
 * and typed client are generated from them. Objects are strict: unknown fields are refused.
 */
const Code = z.string().max(64).meta({ description: 'The 6-digit code the authenticator app shows now.', example: '492039' });
const RecoveryCode = z
  .string()
  .max(64)
  .meta({ description: 'One unused recovery code; case, spaces and hyphens are ignored.', example: '7Q2M-KD9X-4HWR-P0ZA' });
const Timestamp = z.iso.datetime().meta({ example: '2026-11-28T12:00:00.000Z' });

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
  .meta({
    id: 'MfaStatus',
    example: {
      mfaEnabled: true,
      methods: { totp: { enabled: true, enrolledAt: '2026-11-28T12:00:00.000Z', lastUsedAt: '2026-11-29T08:30:00.000Z' } },
      recoveryCodes: { remaining: 10 },
    },
  });

export const EnrollmentResponse = z
  .strictObject({
    secret: z.string().regex(/^[A-Z2-7]+$/).meta({ description: 'Base32 secret without padding, for manual entry.' }),
    otpauthUri: z.string().startsWith('otpauth://totp/'),
    qrCode: z.string().startsWith('data:image/png;base64,').meta({ description: 'PNG QR code of exactly `otpauthUri`.' }),
    expiresAt: Timestamp,
  })
  .meta({
    id: 'TotpEnrollment',
    example: {
      secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      otpauthUri: 'otpauth://totp/serverless-mfa:alice%40example.com?issuer=serverless-mfa&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30',
      qrCode: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA...',
      expiresAt: '2026-11-28T12:10:00.000Z',
    },
  });

const RECOVERY_CODES_EXAMPLE = [
  '7Q2M-KD9X-4HWR-P0ZA', 'C3VN-8T1E-QJ6Y-WB5F', 'M0KX-2RDA-9PZH-TG4S', 'E8WQ-5NYC-1VJB-K7MR', 'R4HT-0FMZ-6XCW-D2PN',
  'Y9BD-3KQS-7EAV-H1JG', 'P6NF-QW2T-5MZE-X8CB', 'A1GR-9YHV-4DKS-N3QT', 'W5XE-7CBP-0JRM-F6ZK', 'H2TJ-6SND-8QWA-V9YE',
];
const RecoveryCodes = z.array(z.string()).length(10).meta({ description: 'Shown once; store them safely.', example: RECOVERY_CODES_EXAMPLE });

export const ConfirmEnrollmentResponse = z
  .strictObject({ enabled: z.literal(true), reauthenticate: z.literal(true), recoveryCodes: RecoveryCodes.optional() })
  .meta({ id: 'TotpEnrollmentConfirmed', example: { enabled: true, reauthenticate: true, recoveryCodes: RECOVERY_CODES_EXAMPLE } });

export const VerifyResponse = z
  .strictObject({
    assertion: z.string().meta({ description: 'ES256 JWT (iss, sub, aud, iat, exp, jti, amr) for the app backend to verify against the JWKS.' }),
    method: z.enum(['totp', 'recovery_code']),
    expiresAt: Timestamp,
    recoveryCodesRemaining: z.int().min(0),
  })
  .meta({
    id: 'MfaVerified',
    example: {
      assertion: 'eyJhbGciOiJFUzI1NiIsImtpZCI6IjNrWDEuLi4ifQ.eyJzdWIiOiJhbGljZSIsImFtciI6WyJvdHAiXX0.c2lnbmF0dXJl',
      method: 'totp',
      expiresAt: '2026-11-28T12:05:00.000Z',
      recoveryCodesRemaining: 10,
    },
  });

export const RecoveryCodesResponse = z
  .strictObject({ recoveryCodes: RecoveryCodes })
  .meta({ id: 'RecoveryCodes', example: { recoveryCodes: RECOVERY_CODES_EXAMPLE } });
export const DisableResponse = z.strictObject({ mfaEnabled: z.literal(false) }).meta({ id: 'TotpDisabled', example: { mfaEnabled: false } });

export const OpenIdConfigurationResponse = z
  .strictObject({
    issuer: z.url(),
    jwks_uri: z.url(),
    id_token_signing_alg_values_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    subject_types_supported: z.array(z.string()),
    claims_supported: z.array(z.string()),
  })
  .meta({
    id: 'OpenIdConfiguration',
    example: {
      issuer: 'https://mfa.example.com',
      jwks_uri: 'https://mfa.example.com/.well-known/jwks.json',
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['none'],
      response_types_supported: ['none'],
      subject_types_supported: ['public'],
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'amr'],
    },
  });

export const JwksResponse = z
  .strictObject({
    keys: z.array(z.strictObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), kid: z.string(), alg: z.literal('ES256'), use: z.literal('sig') })),
  })
  .meta({
    id: 'JsonWebKeySet',
    example: {
      keys: [
        {
          kty: 'EC',
          crv: 'P-256',
          x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
          y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
          kid: '3kX1v9Yp2QbL7sT0uW4eRa',
          alg: 'ES256',
          use: 'sig',
        },
      ],
    },
  });

export const ProblemResponse = z
  .strictObject({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string().meta({ description: 'Stable, snake_case error code.' }),
  })
  .meta({ id: 'Problem' });
