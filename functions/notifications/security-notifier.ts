import { securityNoticesOfImage, type StreamImage } from '../adapters/aws/change-event-stream.js';
import type { Clock } from '../domain/clock.js';
import { securityNotificationMail } from '../mail/templates.js';
import type { Mailer } from '../ports/mailer.js';
import type { NoticeLedger } from '../ports/notice-ledger.js';

export interface SecurityNotifierDeps {
  mailer: Mailer;
  ledger: NoticeLedger;
  clock: Clock;
  serviceName: string;
  supportUrl?: string | undefined;
  /** Where failures are told (never with an address or a mail's words). */
  warn(message: string, fields: Record<string, unknown>): void;
}

/** One stream record: its position (for a retry from it) and its new image. */
export interface NoticeRecord {
  sequence: string;
  image: StreamImage | undefined;
}

/** A notice another delivery holds: its record is reported for a retry. */
class NoticeHeldError extends Error {
  override name = 'NoticeHeldError';
}

/**
 * Security notifications, off the request path: for each change event of a stream record that
 * the user is told about, one mail to the address recorded at enrollment (and one to the address
 * before it, when that change moved the notices: securityNoticesOfImage). At most one mail per
 * notice id (the ledger: claimed before the send, marked sent after it), so a redelivered record
 * sends nothing twice; a failed send gives its claim back and reports its record for a retry, and
 * so does a notice another delivery still holds.
 * Returns the sequences of the records to retry.
 */
export function createSecurityNotifier(deps: SecurityNotifierDeps) {
  return async (records: readonly NoticeRecord[]): Promise<string[]> => {
    const failed: string[] = [];
    for (const record of records) {
      for (const notice of securityNoticesOfImage(record.image)) {
        const now = deps.clock.now();
        try {
          const claim = await deps.ledger.claim(notice.id, now);
          if (claim === 'sent') continue;
          // Another delivery holds it (a sender that timed out, until its lease ends): tried again, never skipped.
          if (claim === 'held') throw new NoticeHeldError();
          try {
            await deps.mailer.send(securityNotificationMail({ to: notice.to, change: notice.change, serviceName: deps.serviceName, supportUrl: deps.supportUrl }));
          } catch (error) {
            await deps.ledger.release(notice.id, now).catch(() => undefined);
            throw error;
          }
          await deps.ledger.sent(notice.id, now);
        } catch (error) {
          deps.warn('security notice not sent; its record will be retried', { noticeId: notice.id, event: notice.change.event, errorName: (error as Error)?.name ?? typeof error });
          failed.push(record.sequence);
          break;
        }
      }
      // Stream order: a later record of the same user waits for the failed one's retry.
      if (failed.length > 0) break;
    }
    return failed;
  };
}
