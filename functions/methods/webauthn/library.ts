/**
 * The WebAuthn library, loaded on first use (a chunk of its own in the bundles: a TOTP
 * verification never parses it) and then kept: each later call awaits the same promise instead
 * of going through the module loader's resolution again. A failed load is not kept.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));
}

export const webAuthnLibrary = loadOnce(() => import('@simplewebauthn/server'));
export const webAuthnHelpers = loadOnce(() => import('@simplewebauthn/server/helpers'));
