/**
 * Which kind of proof the user gives: a code from an authenticator app, a recovery code or a
 * security key. A user without their phone says so once ("Use a recovery code"): every proof
 * form of this visit (the second step, then each step-up) opens on that kind, so no recovery
 * code is spent finding out that the code field came first. Kept in memory only: a new visit
 * starts from the app's code again.
 */
export type ProofKind = 'code' | 'recovery-code' | 'security-key' | 'email';

/** Which proofs the user can give: an app's code, a recovery code, a security key, a code by email. */
export interface ProofMethods {
  code: boolean;
  recoveryCode: boolean;
  securityKey: boolean;
  /** A code by email (the user has the method): sent only when asked for ("Email me a code"). */
  email?: boolean | undefined;
}

let chosen: ProofKind | undefined;

export function rememberProofKind(kind: ProofKind): void {
  chosen = kind;
}

/** Signing out ends the visit's choice: the next user starts from the app's code. */
export function forgetProofKind(): void {
  chosen = undefined;
}

/** The kind the user chose this visit when it can be used here, else the app's code, a key, a recovery code. */
export function preferredProofKind(methods: ProofMethods): ProofKind {
  if (chosen && available(methods, chosen)) return chosen;
  return methods.code ? 'code' : methods.securityKey ? 'security-key' : 'recovery-code';
}

export function available(methods: ProofMethods, kind: ProofKind): boolean {
  if (kind === 'email') return methods.email === true;
  return kind === 'code' ? methods.code : kind === 'recovery-code' ? methods.recoveryCode : methods.securityKey;
}

/**
 * What still works while codes from the app are locked: recovery codes and security keys are
 * never refused because of a code lockout (functions/domain/lockout.ts). Empty when neither is there.
 */
export function whileCodesAreLocked(methods: ProofMethods): string {
  if (methods.recoveryCode && methods.securityKey) return 'A recovery code or your security key still works: choose "Use a recovery code" or "Use a security key".';
  if (methods.recoveryCode) return 'A recovery code still works: choose "Use a recovery code".';
  if (methods.securityKey) return 'Your security key still works: choose "Use a security key".';
  return '';
}
