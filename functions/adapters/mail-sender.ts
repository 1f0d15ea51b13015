import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { PortFactories } from '../composition.js';
import { SesMailer } from './aws/ses-mailer.js';
import { SmtpMailer } from './local/smtp-mailer.js';

/**
 * The mail port's factory, apart from composition.ts so that only the functions that send
 * mail bundle the SES client: SES in the cloud, SMTP (MailDev) locally.
 */
export const mailSender: NonNullable<PortFactories['mail']> = (config, clients) =>
  config.adapters === 'aws'
    ? new SesMailer((clients.ses ??= new SESv2Client({ maxAttempts: 2 })), config.emailFrom!, config.emailConfigurationSet)
    : new SmtpMailer(config.smtpUrl!, config.emailFrom!);
