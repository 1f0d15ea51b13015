import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StreamImage } from '../functions/adapters/aws/change-event-stream.js';
import { DynamoDbNoticeLedger } from '../functions/adapters/aws/dynamodb-notice-ledger.js';
import { SmtpMailer } from '../functions/adapters/local/smtp-mailer.js';
import { systemClock } from '../functions/domain/clock.js';
import { createSecurityNotifier } from '../functions/notifications/security-notifier.js';
import { LOCAL_AWS_ENV } from './dynamodb-local.js';

/**
 * The local stand-in for the notice function: the change event log hands it each batch of the
 * table's stream, and it mails the security notices through MailDev (the same notifier and
 * ledger as in the cloud, on DynamoDB Local).
 */
export class LocalSecurityNotifier {
  private constructor(
    private readonly client: DynamoDBClient,
    private readonly notify: ReturnType<typeof createSecurityNotifier>,
  ) {}

  static create(options: { env: NodeJS.ProcessEnv; smtpUrl: string; dynamoDbEndpoint: string }): LocalSecurityNotifier {
    const credentials = { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY };
    const client = new DynamoDBClient({ endpoint: options.dynamoDbEndpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials });
    const notify = createSecurityNotifier({
      mailer: new SmtpMailer(options.smtpUrl, options.env.MFA_EMAIL_FROM ?? 'no-reply@localhost.localdomain'),
      ledger: new DynamoDbNoticeLedger(client, options.env.MFA_TABLE_NAME!),
      clock: systemClock,
      serviceName: options.env.MFA_TOTP_ISSUER_NAME ?? 'serverless-mfa',
      supportUrl: options.env.MFA_SUPPORT_URL,
      warn: (message, fields) => console.error(`security notices: ${message} ${JSON.stringify(fields)}`),
    });
    return new LocalSecurityNotifier(client, notify);
  }

  /** Sends the notices of these images; throws when one could not go (the log reads the batch again). */
  async deliver(images: Array<StreamImage | undefined>): Promise<void> {
    const failed = await this.notify(images.map((image, i) => ({ sequence: String(i), image })));
    if (failed.length > 0) throw new Error('a security notice could not be sent');
  }

  close(): void {
    this.client.destroy();
  }
}
