import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { MailNotSentError, type Mail, type Mailer } from '../../ports/mailer.js';

/**
 * Mailer on Amazon SES (API v2 `SendEmail`): from the deployment's verified identity, through
 * its configuration set (delivery, bounce and complaint events). The functions' roles may send
 * from that address only (`ses:FromAddress`).
 */
export class SesMailer implements Mailer {
  constructor(
    private readonly client: Pick<SESv2Client, 'send'>,
    private readonly from: string,
    private readonly configurationSet: string | undefined,
  ) {}

  async send(mail: Mail): Promise<void> {
    try {
      await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: [mail.to] },
          Content: {
            Simple: {
              Subject: { Data: mail.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: mail.text, Charset: 'UTF-8' }, Html: { Data: mail.html, Charset: 'UTF-8' } },
            },
          },
          ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
        }),
      );
    } catch (error) {
      throw new MailNotSentError((error as Error)?.name ?? 'unknown');
    }
  }
}
