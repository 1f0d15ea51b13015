/**
 * Which security notices went out, by notice id (a change event's id; renames share one per
 * user, kind of method and hour): the stream delivers at least once, and the user gets at most one
 * mail per notice id. `claim` takes the notice for this sender (`claimed`),
 * or says it was sent already (`sent`) or that another delivery holds it (`held`: its sender is
 * still at work, or died before its lease ran out; the record must be tried again, never
 * skipped). `sent` records the mail left, `release` gives the notice back after a failed send
 * (so the retry may send it).
 */
export type NoticeClaim = 'claimed' | 'sent' | 'held';

export interface NoticeLedger {
  claim(noticeId: string, now: number): Promise<NoticeClaim>;
  sent(noticeId: string, now: number): Promise<void>;
  release(noticeId: string, now: number): Promise<void>;
}
