import type { MfaStatus } from '../../client/index.js';

/**
 * Every screen by name, with what it needs to open. Screens never import each other: they ask
 * the router for the next one by name, and only main.ts knows which function draws which.
 */
export interface Routes {
  'sign-in': { note?: string; error?: string };
  'second-step': { status?: MfaStatus };
  profile: { status?: MfaStatus; note?: string };
  'set-up': Record<never, never>;
  'recovery-codes': { codes: string[]; reason: 'enrolled' | 'regenerated' };
  'confirm-with-code': { action: 'disable' | 'regenerate' };
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
