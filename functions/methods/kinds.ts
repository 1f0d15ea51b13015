/**
 * The method kinds, written once. An authenticator is one of the user's registered factors
 * (an authenticator app, a security key, or a verified email address); a proof is what a
 * request presents to show it holds a current factor: a code from an app, a recovery code, a
 * key's signature, or a code sent by email.
 */
export const AUTHENTICATOR_KINDS = ['totp', 'webauthn', 'email'] as const;
export type AuthenticatorKind = (typeof AUTHENTICATOR_KINDS)[number];

export const PROOF_METHODS = ['totp', 'recovery_code', 'webauthn', 'email'] as const;
export type ProofMethod = (typeof PROOF_METHODS)[number];

/** At most this many authenticators per user, of all kinds together. */
export const MAX_AUTHENTICATORS = 10;

export const DEFAULT_AUTHENTICATOR_NAMES: Record<AuthenticatorKind, string> = {
  totp: 'Authenticator app',
  webauthn: 'Security key',
  email: 'Email',
};
