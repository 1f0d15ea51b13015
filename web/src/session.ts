import type { MfaVerified } from '../../client/index.js';

/**
 * Who is signed in, kept in memory only. The first-factor token and the MFA assertion are
 * bearer credentials: in memory they are gone when the tab reloads or closes, nothing is left
 * in storage for a later visitor of a shared computer, and signing out is dropping the object.
 * The price is signing in again after a reload, which suits a security settings page.
 */
export class Session {
  private state: { username: string; token: string; assertion?: MfaVerified } | undefined;

  get username(): string | undefined {
    return this.state?.username;
  }

  /** The first-factor token: sent as the bearer token on every API call. */
  get token(): string | undefined {
    return this.state?.token;
  }

  /** Signed in with both factors: the app backend accepts this assertion as proof of MFA. */
  get assertion(): MfaVerified | undefined {
    return this.state?.assertion;
  }

  signIn(username: string, token: string): void {
    this.state = { username, token };
  }

  holdAssertion(assertion: MfaVerified): void {
    if (this.state) this.state.assertion = assertion;
  }

  signOut(): void {
    this.state = undefined;
  }
}
