/**
 * Recovery codes are shown once. While they are on screen and the user has not said they saved
 * them, leaving asks first: "Sign out" asks in a dialog, and a reload or a closed tab asks
 * through the browser's own `beforeunload` prompt. If the page goes anyway, a mark (never the
 * codes) stays in this browser, so that the profile can say plainly that those codes were not
 * confirmed as saved and offer new ones.
 */
const STORAGE_PREFIX = 'serverless-mfa.unconfirmed-recovery-codes:';

export const LEAVE_QUESTION = 'Your recovery codes are shown only now, and you have not said you saved them. Leave this page anyway?';

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem' | 'removeItem'>;

let guarded: { username: string; release: () => void } | undefined;

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    // Storage can be refused (privacy settings): the guard still asks, the mark is just not kept.
    return undefined;
  }
}

/** The codes of `username` are on screen and not yet confirmed as saved. */
export function guardUnsavedCodes(username: string, createdAt = new Date()): void {
  releaseGuard();
  const onBeforeUnload = (event: BeforeUnloadEvent) => {
    event.preventDefault();
    // Older browsers show the prompt only when returnValue is set.
    event.returnValue = '';
  };
  window.addEventListener('beforeunload', onBeforeUnload);
  storage()?.setItem(STORAGE_PREFIX + username, createdAt.toISOString());
  guarded = { username, release: () => window.removeEventListener('beforeunload', onBeforeUnload) };
}

/** The user ticked "I have saved these codes" and continued: nothing to warn about any more. */
export function confirmCodesSaved(username: string): void {
  releaseGuard();
  storage()?.removeItem(STORAGE_PREFIX + username);
}

/** Whether leaving the codes screen now is what the user wants: asks only while codes are unsaved. */
export function mayLeave(ask: (question: string) => boolean = (question) => window.confirm(question)): boolean {
  if (!guarded) return true;
  if (!ask(LEAVE_QUESTION)) return false;
  // Leaving on purpose: the mark stays, so that the profile still offers new codes next time.
  releaseGuard();
  return true;
}

/** When codes shown to `username` were left without being confirmed as saved (ISO time), if ever. */
export function unconfirmedCodesOf(username: string): string | undefined {
  if (guarded?.username === username) return undefined;
  return storage()?.getItem(STORAGE_PREFIX + username) ?? undefined;
}

function releaseGuard(): void {
  guarded?.release();
  guarded = undefined;
}
