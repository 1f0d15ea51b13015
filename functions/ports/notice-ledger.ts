/**
 * Which security notices went out, by change event id: the stream delivers at least once, and
 * the user gets at most one mail per event. `claim` takes the event for this sender (`claimed`),
 * or says it was sent already (`sent`) or that another delivery holds it (`held`: its sender is
 * still at work, or died before its lease ran out; the record must be tried again, never
 * skipped). `sent` records the mail left, `release` gives the event back after a failed send
 * (so the retry may send it).
 */
export type NoticeClaim = 'claimed' | 'sent' | 'held';

export interface NoticeLedger {
  claim(eventId: string, now: number): Promise<NoticeClaim>;
  sent(eventId: string, now: number): Promise<void>;
  release(eventId: string, now: number): Promise<void>;
}
