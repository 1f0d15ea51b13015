// The namespace import lets esbuild drop what is unused (all of zod's locales: about 350 KB per bundle).
import * as z from 'zod';
import { AUTHENTICATOR_KINDS, PROOF_METHODS } from '../methods/kinds.js';

/**
 * Request and response schemas: the handlers validate with them, and the OpenAPI document
 * and typed client are generated from them. Objects are strict: unknown fields are refused.
 */
const Code = z.string().max(64).meta({ description: 'The 6-digit code the authenticator app shows now.', example: '492039' });
const RecoveryCode = z
  .string()
  .max(64)
  .meta({ description: 'One unused recovery code; case, spaces and hyphens are ignored.', example: '7Q2M-KD9X-4HWR-P0ZA' });
const EmailCode = z.string().max(64).meta({ description: 'The 8-digit code the last mail to this session carried.', example: '40918273' });
const Timestamp = z.iso.datetime().meta({ example: '2026-11-28T12:00:00.000Z' });

const Base64Url = z.string().max(8192).regex(/^[A-Za-z0-9_-]*$/);
/**
 * A name the user gives an authenticator: leading and trailing white space is not part of it
 * (the handlers keep `keptName` of it); what is left must be 1-64 characters (code points, as
 * people count them: an emoji is one) with no control or format characters (Unicode Cc, Cf).
 * Each rule is checked on the value as sent, by a pattern that says it of the trimmed value, so
 * that JSON Schema states the rules exactly and the bundles check names without zod at init
 * (lib/precompiled-schemas.ts); the words of each refusal are the rule's own. The patterns are
 * linear on anything a 16 KB body can hold.
 */
const AuthenticatorName = z
  .string()
  .regex(/\S/u, { error: 'must not be empty' })
  .regex(/^\s*(?:\S(?:[^]{0,62}\S)?\s*)?$/u, { error: 'must be at most 64 characters' })
  .regex(/^\s*(?:[^\s\p{Cc}\p{Cf}](?:[^\p{Cc}\p{Cf}]*[^\s\p{Cc}\p{Cf}])?\s*)?$/u, { error: 'must not contain control or format characters' })
  .meta({
    description: 'A name the user gives the authenticator: trimmed of leading and trailing white space, then 1-64 characters, no control or format characters (Unicode Cc, Cf).',
    example: 'YubiKey 5C',
    // One pattern says all three rules of the value as sent.
    override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
      const { type, pattern: _first, allOf: _others, ...annotations } = jsonSchema;
      // The one pattern is all the rules there are: a rule added above must be added to it, never dropped unseen (the precompiled check is built from this).
      const rules = Object.keys(annotations).filter((key) => ['minLength', 'maxLength', 'format', 'enum', 'const', 'anyOf', 'oneOf', 'not'].includes(key));
      if (rules.length > 0) throw new Error(`AuthenticatorName's pattern does not state ${rules.join(', ')}: add it to the pattern.`);
      for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
      Object.assign(jsonSchema, { type, pattern: '^\\s*[^\\s\\p{Cc}\\p{Cf}](?:[^\\p{Cc}\\p{Cf}]{0,62}[^\\s\\p{Cc}\\p{Cf}])?\\s*$', ...annotations });
    },
  });
const AuthenticatorId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/).meta({ description: "The authenticator's id.", example: 'Jq3r8mZt0aXk2Vb9' });

/** What a browser reports of the extensions we ask for (`credProps` at registration; none at authentication). */
const ClientExtensionResults = z.strictObject({
  credProps: z.strictObject({ rk: z.boolean().optional() }).optional(),
  appid: z.boolean().optional(),
});
const AuthenticatorAttachment = z.enum(['platform', 'cross-platform']);
const Transports = z.array(z.string().max(32)).max(10);

/** A key's assertion: the WebAuthn Level 3 JSON form (`PublicKeyCredential.toJSON()` of `navigator.credentials.get`). */
export const AuthenticationResponse = z
  .strictObject({
    id: Base64Url.min(1),
    rawId: Base64Url.min(1),
    type: z.literal('public-key'),
    response: z.strictObject({
      clientDataJSON: Base64Url.min(1),
      authenticatorData: Base64Url.min(1),
      signature: Base64Url.min(1),
      userHandle: Base64Url.optional(),
    }),
    authenticatorAttachment: AuthenticatorAttachment.optional(),
    clientExtensionResults: ClientExtensionResults,
  })
  .meta({ id: 'AuthenticationResponseJSON', description: 'AuthenticationResponseJSON (WebAuthn L3): `credential.toJSON()` of a `navigator.credentials.get()` answer.' });

/** A new key's registration: the WebAuthn Level 3 JSON form of `navigator.credentials.create`. */
export const RegistrationResponse = z
  .strictObject({
    id: Base64Url.min(1),
    rawId: Base64Url.min(1),
    type: z.literal('public-key'),
    response: z.strictObject({
      clientDataJSON: Base64Url.min(1),
      attestationObject: Base64Url.min(1),
      authenticatorData: Base64Url.optional(),
      transports: Transports.optional(),
      publicKey: Base64Url.optional(),
      publicKeyAlgorithm: z.int().optional(),
    }),
    authenticatorAttachment: AuthenticatorAttachment.optional(),
    clientExtensionResults: ClientExtensionResults,
  })
  .meta({ id: 'RegistrationResponseJSON', description: 'RegistrationResponseJSON (WebAuthn L3): `credential.toJSON()` of a `navigator.credentials.create()` answer.' });

const Nonce = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._~-]+$/)
  .meta({ description: "Echoed as the assertion's `nonce` claim: the app backend makes one per pending sign-in and checks it.", example: 'n-0S6_WzA2Mj' });

const DeviceId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/).meta({ description: "A remembered browser's id.", example: 'q3M0cXb7Rk2yH9vLw1ZsAg' });
const Coordinate = z.string().regex(/^[A-Za-z0-9_-]{43}$/).meta({ description: 'base64url of a 32-byte P-256 coordinate.' });
const DevicePublicKey = z
  .strictObject({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: Coordinate,
    y: Coordinate,
    alg: z.literal('ES256').optional(),
    ext: z.boolean().optional(),
    key_ops: z.array(z.literal('verify')).max(1).optional(),
  })
  .meta({
    id: 'DevicePublicKey',
    description: "The browser key's public half as an ES256 JWK (`crypto.subtle.exportKey('jwk', publicKey)`): a private key (`d`) or any other key type is refused.",
  });
const RememberDevice = z
  .strictObject({
    publicKey: DevicePublicKey,
    name: AuthenticatorName.optional().meta({ description: 'A name for the browser (1-64 characters); default "Browser".', example: 'Chrome on Linux' }),
  })
  .meta({ id: 'RememberDevice', description: 'Remember this browser with this sign-in: its key signs the next sign-ins to this app instead of a second factor.' });
const DeviceProof = z
  .strictObject({
    id: DeviceId,
    challenge: Base64Url.min(1).max(128).meta({ description: 'The challenge POST /v1/mfa/device/challenge answered.' }),
    signature: Base64Url.min(1).max(128).meta({ description: 'base64url of the 64-byte ECDSA P-256 SHA-256 signature (as `crypto.subtle.sign` returns it) over the UTF-8 bytes of `challenge`.' }),
  })
  .meta({ id: 'DeviceProof' });

const proofShapes = <E extends z.core.$ZodLooseShape>(extra: E) => [
  z.strictObject({ code: Code, ...extra }),
  z.strictObject({ recoveryCode: RecoveryCode, ...extra }),
  z.strictObject({ webauthn: AuthenticationResponse, ...extra }),
  z.strictObject({ emailCode: EmailCode, ...extra }),
] as const;

/** The words of a body that is not exactly one proof (functions/http/schema-words.ts puts them in the problem's detail). */
export const ONE_PROOF = 'Send exactly one of code, recoveryCode, webauthn or emailCode';

export const EmptyRequest = z.strictObject({}).meta({ id: 'EmptyRequest' });
export const ConfirmEnrollmentRequest = z.strictObject({ code: Code, name: AuthenticatorName.optional() }).meta({ id: 'ConfirmEnrollmentRequest' });
export const SecondFactorRequest = z
  .union(proofShapes({}), { error: ONE_PROOF })
  .meta({ id: 'SecondFactorRequest', description: 'Exactly one of `code` (TOTP), `recoveryCode`, `webauthn` (a security key\'s assertion) or `emailCode` (a code sent by email).' });
export const VerifyRequest = z
  .union([...proofShapes({ nonce: Nonce.optional(), rememberDevice: RememberDevice.optional() }), z.strictObject({ device: DeviceProof, nonce: Nonce.optional() })], {
    error: 'Send exactly one of code, recoveryCode, webauthn, emailCode or device, and optionally nonce (and, with a code, recoveryCode, webauthn or emailCode, rememberDevice)',
  })
  .meta({
    id: 'VerifyRequest',
    description:
      'Exactly one proof (`code`, `recoveryCode`, `webauthn`, `emailCode`, or a remembered browser\'s `device` signature), optionally the `nonce` to bind the assertion to, and with a proof of a real factor optionally `rememberDevice`.',
  });
/** `{}` while MFA is off; a proof of a current factor when it is on. */
export const OptionalProofRequest = z
  .union([z.strictObject({}), ...proofShapes({})], { error: `${ONE_PROOF} (or {} while MFA is off)` })
  .meta({ id: 'OptionalProofRequest', description: '`{}` while MFA is off; while it is on, exactly one proof of a current factor (`code`, `recoveryCode`, `webauthn` or `emailCode`).' });
export const ConfirmRegistrationRequest = z
  .strictObject({ credential: RegistrationResponse, name: AuthenticatorName.optional() })
  .meta({ id: 'ConfirmRegistrationRequest' });
export const RenameAuthenticatorRequest = z.strictObject({ name: AuthenticatorName }).meta({ id: 'RenameAuthenticatorRequest' });
export const AuthenticatorPathParameters = z.strictObject({ id: AuthenticatorId });
export const DevicePathParameters = z.strictObject({ id: DeviceId });
export const DeviceChallengeRequest = z.strictObject({ deviceId: DeviceId }).meta({ id: 'DeviceChallengeRequest' });

export const AuthenticatorResponse = z
  .strictObject({
    id: AuthenticatorId,
    kind: z.enum(AUTHENTICATOR_KINDS),
    name: z.string(),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
    transports: z.array(z.string()).optional().meta({ description: 'Security keys only: how the browser reaches the key.' }),
    backedUp: z.boolean().optional().meta({ description: 'Security keys only: a synced passkey (true) or a device-bound key.' }),
    address: z.string().optional().meta({ description: 'Email only: the address codes go to, masked.', example: 'a***@example.com' }),
  })
  .meta({
    id: 'Authenticator',
    example: { id: 'Jq3r8mZt0aXk2Vb9', kind: 'webauthn', name: 'YubiKey 5C', createdAt: '2026-11-28T12:00:00.000Z', lastUsedAt: null, transports: ['usb'], backedUp: false },
  });

const Device = z
  .strictObject({
    id: DeviceId,
    name: z.string(),
    app: z.string().meta({ description: 'The app (first-factor audience) it signs in to.' }),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
    expiresAt: Timestamp.meta({ description: 'Fixed when it was remembered: use does not extend it.' }),
  })
  .meta({
    id: 'RememberedDevice',
    example: { id: 'q3M0cXb7Rk2yH9vLw1ZsAg', name: 'Chrome on Linux', app: 'my-app', createdAt: '2026-11-28T12:00:00.000Z', lastUsedAt: null, expiresAt: '2026-12-28T12:00:00.000Z' },
  });
export const DevicesResponse = z.strictObject({ devices: z.array(Device) }).meta({ id: 'RememberedDevices', example: { devices: [] } });
export const DeviceChallengeResponse = z
  .strictObject({ challenge: z.string().meta({ description: '32 random bytes, base64url: sign its UTF-8 bytes.' }), expiresAt: Timestamp })
  .meta({ id: 'DeviceChallenge', example: { challenge: 'r4nd0mCh4ll3ng3AAAAAAAAAAAAAAAAAAAAAAAAAAA', expiresAt: '2026-11-28T12:02:00.000Z' } });

export const MfaStatusResponse = z
  .strictObject({
    mfaEnabled: z.boolean(),
    methods: z.strictObject({
      totp: z.strictObject({ enabled: z.boolean(), enrolledAt: Timestamp.nullable(), lastUsedAt: Timestamp.nullable(), count: z.int().min(0) }),
      webauthn: z.strictObject({ enabled: z.boolean(), count: z.int().min(0) }),
      email: z.strictObject({ enabled: z.boolean(), count: z.int().min(0).max(1) }),
    }),
    recoveryCodes: z.strictObject({ remaining: z.int().min(0) }),
    authenticators: z.array(AuthenticatorResponse),
    devices: z.array(Device).meta({ description: 'Remembered browsers, of every app.' }),
  })
  .meta({
    id: 'MfaStatus',
    example: {
      mfaEnabled: true,
      methods: {
        totp: { enabled: true, enrolledAt: '2026-11-28T12:00:00.000Z', lastUsedAt: '2026-11-29T08:30:00.000Z', count: 1 },
        webauthn: { enabled: false, count: 0 },
        email: { enabled: false, count: 0 },
      },
      recoveryCodes: { remaining: 10 },
      authenticators: [
        { id: 'Jq3r8mZt0aXk2Vb9', kind: 'totp', name: 'Authenticator app', createdAt: '2026-11-28T12:00:00.000Z', lastUsedAt: '2026-11-29T08:30:00.000Z' },
      ],
      devices: [],
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
    assertion: z.string().meta({ description: 'ES256 JWT (iss, sub, aud, iat, exp, jti, amr, auth_time; acr for a key; remembered for a remembered browser) for the app backend to verify against the JWKS.' }),
    method: z.enum(PROOF_METHODS),
    expiresAt: Timestamp,
    recoveryCodesRemaining: z.int().min(0),
    device: z
      .strictObject({ id: DeviceId, name: z.string(), expiresAt: Timestamp })
      .optional()
      .meta({ description: 'The browser remembered with this sign-in (only with `rememberDevice`).' }),
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
export const DisableResponse = z
  .strictObject({ mfaEnabled: z.boolean().meta({ description: 'Still true when security keys remain.' }) })
  .meta({ id: 'TotpDisabled', example: { mfaEnabled: false } });

const CredentialDescriptor = z.strictObject({ id: z.string(), type: z.literal('public-key'), transports: z.array(z.string()).optional() });

const CreationOptions = z
  .strictObject({
    rp: z.strictObject({ id: z.string(), name: z.string() }),
    user: z.strictObject({ id: z.string().meta({ description: 'A random per-user handle, never the subject.' }), name: z.string(), displayName: z.string() }),
    challenge: z.string().meta({ description: '32 random bytes, base64url.' }),
    pubKeyCredParams: z.array(z.strictObject({ type: z.literal('public-key'), alg: z.int() })),
    timeout: z.int(),
    excludeCredentials: z.array(CredentialDescriptor),
    authenticatorSelection: z.strictObject({
      residentKey: z.string(),
      userVerification: z.string(),
      requireResidentKey: z.boolean().optional(),
      authenticatorAttachment: z.string().optional(),
    }),
    attestation: z.literal('none'),
    extensions: z.strictObject({ credProps: z.boolean().optional() }).optional(),
    hints: z.array(z.string()).optional(),
  })
  .meta({ id: 'PublicKeyCredentialCreationOptionsJSON', description: 'For `PublicKeyCredential.parseCreationOptionsFromJSON()`.' });

const RequestOptions = z
  .strictObject({
    challenge: z.string().meta({ description: 'Minted for this user and session: 39 bytes (an expiry, 16 random bytes and a MAC), base64url.' }),
    rpId: z.string(),
    timeout: z.int(),
    allowCredentials: z.array(CredentialDescriptor),
    userVerification: z.string(),
    extensions: z.strictObject({}).optional(),
    hints: z.array(z.string()).optional(),
  })
  .meta({ id: 'PublicKeyCredentialRequestOptionsJSON', description: 'For `PublicKeyCredential.parseRequestOptionsFromJSON()`.' });

export const RegistrationOptionsResponse = z.strictObject({ options: CreationOptions, expiresAt: Timestamp }).meta({ id: 'WebAuthnRegistrationOptions' });
export const ChallengeResponse = z.strictObject({ options: RequestOptions, expiresAt: Timestamp }).meta({ id: 'WebAuthnChallenge' });
export const KeyRegisteredResponse = z
  .strictObject({ enabled: z.literal(true), reauthenticate: z.literal(true), authenticator: AuthenticatorResponse, recoveryCodes: RecoveryCodes.optional() })
  .meta({ id: 'SecurityKeyRegistered' });
export const AuthenticatorsLeftResponse = z
  .strictObject({ mfaEnabled: z.boolean(), authenticators: z.array(AuthenticatorResponse) })
  .meta({ id: 'AuthenticatorsLeft', example: { mfaEnabled: false, authenticators: [] } });

export const ConfirmEmailEnrollmentRequest = z.strictObject({ code: EmailCode, name: AuthenticatorName.optional() }).meta({ id: 'ConfirmEmailEnrollmentRequest' });
export const EmailCodeSentResponse = z
  .strictObject({
    sentTo: z.string().meta({ description: 'Where the code went, masked.', example: 'a***@example.com' }),
    expiresAt: Timestamp,
  })
  .meta({ id: 'EmailCodeSent', example: { sentTo: 'a***@example.com', expiresAt: '2026-11-28T12:10:00.000Z' } });
export const EmailEnabledResponse = z
  .strictObject({ enabled: z.literal(true), reauthenticate: z.literal(true), authenticator: AuthenticatorResponse, recoveryCodes: RecoveryCodes.optional() })
  .meta({ id: 'EmailEnabled' });

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
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'amr', 'nonce', 'auth_time', 'acr', 'remembered'],
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
