import type { AttemptLane } from '../domain/lockout.js';

/**
 * The method kinds, written once. An authenticator is one of the user's registered factors
 * (an authenticator app, a security key, or a verified email address); a proof is what a
 * request presents to show it holds a current factor: a code from an app, a recovery code, a
 * key's signature, or a code sent by email; at sign-in also a remembered browser's signature.
 */
export const AUTHENTICATOR_KINDS = ['totp', 'webauthn', 'email'] as const;
export type AuthenticatorKind = (typeof AUTHENTICATOR_KINDS)[number];

/** `device`: a remembered browser's signature (only ever a sign-in's second step, never a step-up). */
export const PROOF_METHODS = ['totp', 'recovery_code', 'webauthn', 'email', 'device'] as const;
export type ProofMethod = (typeof PROOF_METHODS)[number];

/**
 * How each kind of proof is limited, declared once (domain/lockout.ts): `guessable` proofs (an
 * app's 6-digit code) are counted per user and locked; `unguessable` ones (a recovery code's
 * 80 bits, a key's signature) are limited per first-factor session against cost, under a per-user
 * ceiling, and never locked. A new kind of proof names its lane here; the attempt engine does the rest.
 */
export const PROOF_LANES = {
  totp: 'guessable',
  recovery_code: 'unguessable',
  webauthn: 'unguessable',
  // An 8-digit code: guessable, so it counts in the per-user code lock with TOTP codes.
  email: 'guessable',
  device: 'unguessable',
} as const satisfies Record<ProofMethod, AttemptLane>;

/** At most this many authenticators per user, of all kinds together. */
export const MAX_AUTHENTICATORS = 10;

export const DEFAULT_AUTHENTICATOR_NAMES: Record<AuthenticatorKind, string> = {
  totp: 'Authenticator app',
  webauthn: 'Security key',
  email: 'Email',
};
