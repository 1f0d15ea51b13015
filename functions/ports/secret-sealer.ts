/**
 * Encrypts secrets at rest. The context is bound to the ciphertext (KMS encryption context,
 * AES-GCM additional data locally): opening with another user's or purpose's context fails.
 */
/** `totp-secret`: an authenticator app's secret; `email-code`: the key of one email code's hash. */
export type SealPurpose = 'totp-secret' | 'email-code';
export const SEAL_PURPOSES = ['totp-secret', 'email-code'] as const satisfies readonly SealPurpose[];

export interface SealContext {
  purpose: SealPurpose;
  userId: string;
}

export interface SecretSealer {
  seal(plaintext: Uint8Array, context: SealContext): Promise<Uint8Array>;
  open(sealed: Uint8Array, context: SealContext): Promise<Uint8Array>;
}

/** The encryption context as KMS and CloudTrail see it; the local sealer binds the same map. */
export function encryptionContextOf(context: SealContext): Record<string, string> {
  return { service: 'serverless-mfa', purpose: context.purpose, userId: context.userId };
}
