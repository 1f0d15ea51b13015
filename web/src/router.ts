import type { Authenticator, EmailCodeSent, MfaStatus, TotpEnrollment, WebAuthnRegistration } from '../../client/index.js';

/** A change that protects the account, so it asks for a proof first. */
export type StepUp = { action: 'regenerate' | 'add-app' | 'add-key' | 'add-email' } | { action: 'remove'; authenticator: Authenticator };

/**
 * Every screen by name, with what it needs to open. Screens never import each other: they ask
 * the router for the next one by name, and only main.ts knows which function draws which.
 */
export interface Routes {
  'sign-in': { note?: string; error?: string };
  /** The status when the caller has it, so the screen knows at once which proofs to offer. */
  'second-step': { status?: MfaStatus };
  profile: { status?: MfaStatus; note?: string };
  /** An authenticator app; `enrollment` when a step-up already started it (MFA is on). */
  'set-up': { enrollment?: TotpEnrollment };
  /** A security key; `registration` when a step-up already started it (MFA is on). */
  'add-security-key': { registration?: WebAuthnRegistration };
  /** Email codes; `sent` when a step-up already sent the code (MFA is on). */
  'set-up-email': { sent?: EmailCodeSent };
  'recovery-codes': { codes: string[]; reason: 'enrolled' | 'regenerated'; kind?: Authenticator['kind'] };
  'step-up': StepUp & { status?: MfaStatus };
  rename: { authenticator: Authenticator };
}

export type RouteName = keyof Routes;

/** Which function draws each screen, given the context every screen works with (the app). */
export type Screens<Context> = { readonly [Name in RouteName]: (context: Context, params: Routes[Name]) => void };

/** Parameters may be left out where a screen needs none, or none it cannot do without. */
type Params<Name extends RouteName> = Partial<Routes[Name]> extends Routes[Name] ? [params?: Routes[Name]] : [params: Routes[Name]];

export class Router<Context> {
  constructor(
    private readonly screens: Screens<Context>,
    private readonly context: () => Context,
  ) {}

  go<Name extends RouteName>(name: Name, ...[params]: Params<Name>): void {
    this.screens[name](this.context(), (params ?? {}) as Routes[Name]);
  }
}
