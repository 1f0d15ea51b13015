import type { WebAuthnAssertion, WebAuthnAttestation, WebAuthnCreationOptions, WebAuthnRequestOptions } from '../../client/index.js';

/**
 * The browser's side of security keys and passkeys: the API's WebAuthn JSON options go in
 * through PublicKeyCredential.parse*OptionsFromJSON(), the credential comes out as toJSON().
 * Both functions call navigator.credentials.* before their first await, so a click handler that
 * already holds the options keeps the call inside the user's gesture, which Safari requires.
 */
export function securityKeysSupported(): boolean {
  return (
    typeof PublicKeyCredential === 'function' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function' &&
    typeof navigator.credentials?.create === 'function'
  );
}

export async function createKeyCredential(options: WebAuthnCreationOptions): Promise<WebAuthnAttestation> {
  const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options as PublicKeyCredentialCreationOptionsJSON) });
  if (!(credential instanceof PublicKeyCredential)) throw new DOMException('No security key credential was made.', 'NotAllowedError');
  return credential.toJSON() as WebAuthnAttestation;
}

export async function getKeyAssertion(options: WebAuthnRequestOptions): Promise<WebAuthnAssertion> {
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options as PublicKeyCredentialRequestOptionsJSON) });
  if (!(credential instanceof PublicKeyCredential)) throw new DOMException('No security key answered.', 'NotAllowedError');
  return credential.toJSON() as WebAuthnAssertion;
}

/** A margin so that options are not used in the last seconds before the server forgets them. */
const EXPIRY_MARGIN_MS = 5_000;

/**
 * Options fetched before the click. `ready` holds them once they arrived and are still fresh,
 * so the click handler can call the browser synchronously; `take()` waits for (or fetches) them
 * when they are not there yet. Each set is handed out once: challenges are single-use.
 */
export class PreparedOptions<T extends { expiresAt: string }> {
  private pending: Promise<T> | undefined;
  private value: T | undefined;

  constructor(private readonly fetchOptions: () => Promise<T>) {}

  /** Starts fetching a fresh set in the background (errors surface at `take()`). */
  prepare(): void {
    this.value = undefined;
    const pending = this.fetchOptions();
    this.pending = pending;
    pending.then(
      (value) => {
        if (this.pending === pending) this.value = value;
      },
      () => {},
    );
  }

  /** Keeps a set fetched elsewhere (e.g. with a step-up's proof), or one not used after all. */
  hold(value: T): void {
    this.pending = undefined;
    this.value = value;
  }

  /** The prepared set, if it has arrived and is fresh; it is then used up. */
  takeReady(): T | undefined {
    const value = this.value;
    if (!value || Date.parse(value.expiresAt) - Date.now() < EXPIRY_MARGIN_MS) return undefined;
    this.value = undefined;
    this.pending = undefined;
    return value;
  }

  /** The prepared set when it is fresh, else a new one. */
  async take(): Promise<T> {
    const ready = this.takeReady();
    if (ready) return ready;
    const pending = this.pending;
    this.pending = undefined;
    this.value = undefined;
    const value = pending ? await pending.catch(() => this.fetchOptions()) : await this.fetchOptions();
    return Date.parse(value.expiresAt) - Date.now() < EXPIRY_MARGIN_MS ? this.fetchOptions() : value;
  }
}
