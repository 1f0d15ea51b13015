/**
 * Sends one mail. SES in the cloud (adapters/aws/ses-mailer.ts), SMTP locally (MailDev,
 * adapters/local/smtp-mailer.ts). What a mail says is written once, in functions/mail/templates.ts.
 * A failed send throws MailNotSentError: the caller answers 503 and keeps no code that never left.
 */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** The mail could not be handed to the mail service; nothing says why to a client (the log line does, without the mail). */
export class MailNotSentError extends Error {
  override readonly name = 'MailNotSentError';
  constructor(readonly reason: string) {
    super('The mail could not be sent.');
  }
}
