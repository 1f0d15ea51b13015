/**
 * Names typed for a new app or key, kept while the user starts the set-up again (a new QR code,
 * new key options, maybe a new proof), so that "Start again" does not make them type it twice.
 * In memory for this visit; dropped once the name is used or the set-up is cancelled.
 */
export type DraftKind = 'app' | 'key';

const drafts = new Map<DraftKind, string>();

/** Keeps what `input` holds as the draft, and fills it from the draft kept before (else `fallback`). */
export function keepNameDraft(kind: DraftKind, input: HTMLInputElement, fallback = ''): void {
  input.value = drafts.get(kind) ?? fallback;
  input.addEventListener('input', () => drafts.set(kind, input.value));
}

export function dropNameDraft(kind: DraftKind): void {
  drafts.delete(kind);
}

/** Signing out: the next user starts from empty fields. */
export function dropNameDrafts(): void {
  drafts.clear();
}
