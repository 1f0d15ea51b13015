import { expect } from 'vitest';

/** A mail as MailDev's REST API (`GET /api/email`) gives it, the fields the tests read. */
export interface ReceivedMail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: Array<{ address: string }>;
  from: Array<{ address: string }>;
}

/**
 * The inbox of a MailDev started by the local stack (`mail: { maildev: { webPort: 0, smtpPort: 0 } }`),
 * read through its REST API: the mails went through real SMTP.
 */
export class Inbox {
  constructor(readonly webUrl: string) {}

  async all(): Promise<ReceivedMail[]> {
    const response = await fetch(`${this.webUrl}/api/email`);
    expect(response.status).toBe(200);
    return (await response.json()) as ReceivedMail[];
  }

  async to(address: string): Promise<ReceivedMail[]> {
    return (await this.all()).filter((mail) => mail.to.some((to) => to.address.toLowerCase() === address.toLowerCase()));
  }

  /** Waits until `address` has received at least `count` mails (SMTP is asynchronous only for the notifier). */
  async waitFor(address: string, count: number, timeoutMs = 5_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mails = await this.to(address);
      if (mails.length >= count) return mails;
      if (Date.now() > deadline) throw new Error(`${address} received ${mails.length} mails, not ${count}, within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The 8-digit code of the newest mail to `address`. */
  async latestCode(address: string): Promise<string> {
    const mails = await this.to(address);
    const newest = mails.at(-1);
    if (!newest) throw new Error(`no mail to ${address}`);
    return codeOf(newest);
  }
}

export function codeOf(mail: ReceivedMail): string {
  const code = /\b(\d{8})\b/.exec(mail.text)?.[1];
  if (!code) throw new Error(`no code in the mail "${mail.subject}"`);
  return code;
}
