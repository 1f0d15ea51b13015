/**
 * Which security notices went out, by change event id: the stream delivers at least once, and
 * the user gets at most one mail per event. `claim` takes the event for this sender (false when
 * it was sent, or another sender holds it), `sent` records the mail left, `release` gives the
 * event back after a failed send (so the retry may send it).
 */
export interface NoticeLedger {
  claim(eventId: string, now: number): Promise<boolean>;
  sent(eventId: string, now: number): Promise<void>;
  release(eventId: string, now: number): Promise<void>;
}
