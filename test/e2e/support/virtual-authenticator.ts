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
