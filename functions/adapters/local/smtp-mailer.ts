import type { Transporter } from 'nodemailer';
import { MailNotSentError, type Mail, type Mailer } from '../../ports/mailer.js';

/**
 * Mailer over plain SMTP (nodemailer): locally, MailDev on loopback (`npm start` starts it),
 * where a developer reads every mail in a real inbox. Never used in Lambda.
 */
export class SmtpMailer implements Mailer {
  private transport: Promise<Transporter> | undefined;

  constructor(
    private readonly smtpUrl: string,
    private readonly from: string,
  ) {}

  /** nodemailer is loaded on first send: a Lambda bundle never loads it. */
  private async connect(): Promise<Transporter> {
    const { default: nodemailer } = await import('nodemailer');
    const url = new URL(this.smtpUrl);
    // Loopback only, no TLS to negotiate; a short timeout so a dead server answers 503 quickly.
    return nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port || 25),
      secure: false,
      ignoreTLS: true,
      connectionTimeout: 3_000,
      greetingTimeout: 3_000,
      socketTimeout: 5_000,
      logger: false,
    });
  }

  async send(mail: Mail): Promise<void> {
    try {
      const transport = await (this.transport ??= this.connect());
      await transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
    } catch (error) {
      throw new MailNotSentError((error as { code?: string })?.code ?? (error as Error)?.name ?? 'unknown');
    }
  }
}
