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

/** Options older than this are fetched again rather than risk an answer the server has forgotten. */
const DEFAULT_LIFETIME_MS = 60_000;
const MARGIN_MS = 5_000;

/**
 * Options fetched before the click. `takeReady()` hands them over synchronously once they
 * have arrived, so the click handler can call the browser at once; `take()` waits for (or
 * fetches) them when they are not there yet. Each set is handed out once: challenges are
 * single-use. Freshness counts from when the set arrived, for its `timeout`, rather than from
 * `expiresAt`: the browser's clock need not agree with the server's.
 */
export class PreparedOptions<T extends { options: { timeout?: number } }> {
  private pending: Promise<T> | undefined;
  private ready: { value: T; arrivedAt: number } | undefined;

  constructor(private readonly fetchOptions: () => Promise<T>) {}

  /** Starts fetching a fresh set in the background (errors surface at `take()`). */
  prepare(): void {
    this.ready = undefined;
    const pending = this.fetchOptions();
    this.pending = pending;
    pending.then(
      (value) => {
        if (this.pending === pending) this.ready = { value, arrivedAt: Date.now() };
      },
      () => {},
    );
  }

  /** Keeps a set fetched elsewhere (e.g. with a step-up's proof), or one not used after all. */
  hold(value: T, arrivedAt = Date.now()): void {
    this.pending = undefined;
    this.ready = { value, arrivedAt };
  }

  /** The prepared set, if it has arrived and is fresh; it is then used up. */
  takeReady(): { value: T; arrivedAt: number } | undefined {
    const ready = this.ready;
    if (!ready || Date.now() - ready.arrivedAt > Math.min(ready.value.options.timeout ?? DEFAULT_LIFETIME_MS, 10 * 60_000) - MARGIN_MS) return undefined;
    this.ready = undefined;
    this.pending = undefined;
    return ready;
  }

  /** The prepared set when it is fresh, else a new one. */
  async take(): Promise<{ value: T; arrivedAt: number }> {
    const ready = this.takeReady();
    if (ready) return ready;
    // A set that arrived but went stale is not waited for again.
    const pending = this.ready ? undefined : this.pending;
    this.pending = undefined;
    this.ready = undefined;
    // A prefetch that failed (or went stale) gets one fresh try, whose error is the user's to see.
    const fetched = pending ? await pending.catch(() => this.fetchOptions()) : await this.fetchOptions();
    return { value: fetched, arrivedAt: Date.now() };
  }
}
