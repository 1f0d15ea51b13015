import type { BrowserContext, CDPSession, Page } from 'playwright-core';

/**
 * A security key or passkey without hardware: Chromium's virtual authenticator, driven through
 * the DevTools protocol's WebAuthn domain. It answers navigator.credentials.* in `page` as a real
 * one would, touched at once (automaticPresenceSimulation).
 */
export class VirtualAuthenticator {
  private constructor(
    private readonly cdp: CDPSession,
    readonly authenticatorId: string,
  ) {}

  /** `key`: a USB security key without user verification. `passkey`: a platform passkey, synced (backup eligible and backed up). */
  static async attach(context: BrowserContext, page: Page, kind: 'key' | 'passkey'): Promise<VirtualAuthenticator> {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const options =
      kind === 'key'
        ? { protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'usb', hasResidentKey: false, hasUserVerification: false, automaticPresenceSimulation: true } as const
        : {
            protocol: 'ctap2',
            ctap2Version: 'ctap2_1',
            transport: 'internal',
            hasResidentKey: true,
            hasUserVerification: true,
            isUserVerified: true,
            automaticPresenceSimulation: true,
            defaultBackupEligibility: true,
            defaultBackupState: true,
          } as const;
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options });
    return new VirtualAuthenticator(cdp, authenticatorId);
  }

  async credentials(): Promise<Array<{ credentialId: string; signCount: number; rpId?: string; isResidentCredential: boolean }>> {
    const { credentials } = await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.authenticatorId });
    return credentials;
  }

  /** Winds the key's signature counter to `signCount`, as a cloned key's copy would be. */
  async setSignCount(credentialId: string, signCount: number): Promise<void> {
    await this.cdp.send('WebAuthn.setCredentialProperties', { authenticatorId: this.authenticatorId, credentialId, signCount });
  }

  /** From now on the key signs with garbage (or, with false, correctly again). */
  async sendBogusSignatures(on: boolean): Promise<void> {
    await this.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: this.authenticatorId, isBogusSignature: on });
  }
}

/**
 * Records, for each navigator.credentials.create/get call, how many requests the page sent
 * since the user's last click or key press. Zero means the options were there before the
 * gesture, so the call ran inside it (what Safari requires).
 */
export async function recordCredentialCalls(page: Page): Promise<() => Promise<Array<{ method: string; fetchesSinceGesture: number }>>> {
  await page.addInitScript(() => {
    const calls: Array<{ method: string; fetchesSinceGesture: number }> = [];
    let fetchesSinceGesture = 0;
    for (const type of ['click', 'keydown']) window.addEventListener(type, () => (fetchesSinceGesture = 0), true);
    const originalFetch = window.fetch.bind(window);
    window.fetch = (...args: Parameters<typeof fetch>) => {
      fetchesSinceGesture += 1;
      return originalFetch(...args);
    };
    const credentials = navigator.credentials;
    for (const method of ['create', 'get'] as const) {
      const original = credentials[method].bind(credentials);
      credentials[method] = (options?: CredentialCreationOptions & CredentialRequestOptions) => {
        calls.push({ method, fetchesSinceGesture });
        return original(options);
      };
    }
    (window as unknown as { credentialCalls: typeof calls }).credentialCalls = calls;
  });
  return () => page.evaluate(() => (window as unknown as { credentialCalls: Array<{ method: string; fetchesSinceGesture: number }> }).credentialCalls);
}
