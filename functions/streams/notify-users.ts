import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamImage } from '../adapters/aws/change-event-stream.js';
import { DynamoDbNoticeLedger } from '../adapters/aws/dynamodb-notice-ledger.js';
import { SesMailer } from '../adapters/aws/ses-mailer.js';
import { systemClock } from '../domain/clock.js';
import { createSecurityNotifier } from '../notifications/security-notifier.js';
import { logger } from '../observability.js';

/**
 * The notice function: the MFA table's stream -> at most one security notice per notice id (SES): one per change event, one per user, kind and hour for renames.
 * Records whose notices did not all go out are reported in `batchItemFailures`: Lambda retries
 * from the first of them, and the ledger keeps the notices already sent from going twice.
 */
export function createNoticeHandler(notify: ReturnType<typeof createSecurityNotifier>) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const records = event.Records.map((record) => ({
      sequence: record.dynamodb?.SequenceNumber ?? record.eventID ?? '',
      image: record.dynamodb?.NewImage as StreamImage | undefined,
    }));
    const failed = await notify(records);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** Its configuration: without any of it the function refuses to start (it never drops notices silently). */
export function noticeConfigFrom(env: NodeJS.ProcessEnv): { tableName: string; from: string; configurationSet?: string; serviceName: string; supportUrl?: string } {
  const missing = ['MFA_TABLE_NAME', 'MFA_EMAIL_FROM'].filter((name) => !env[name]?.trim());
  // Not config.ts's ConfigurationError: importing that module would bundle zod and the route table into this function.
  if (missing.length > 0) throw Object.assign(new Error(`Missing configuration: ${missing.join(', ')}.`), { name: 'ConfigurationError' });
  return {
    tableName: env.MFA_TABLE_NAME!.trim(),
    from: env.MFA_EMAIL_FROM!.trim(),
    ...(env.MFA_EMAIL_CONFIGURATION_SET ? { configurationSet: env.MFA_EMAIL_CONFIGURATION_SET } : {}),
    serviceName: env.MFA_TOTP_ISSUER_NAME?.trim() || 'serverless-mfa',
    ...(env.MFA_SUPPORT_URL ? { supportUrl: env.MFA_SUPPORT_URL } : {}),
  };
}

let built: ReturnType<typeof createNoticeHandler> | undefined;
const build = () => {
  const config = noticeConfigFrom(process.env);
  return createNoticeHandler(
    createSecurityNotifier({
      mailer: new SesMailer(new SESv2Client({ maxAttempts: 2 }), config.from, config.configurationSet),
      ledger: new DynamoDbNoticeLedger(new DynamoDBClient({ maxAttempts: 3 }), config.tableName),
      clock: systemClock,
      serviceName: config.serviceName,
      supportUrl: config.supportUrl,
      warn: (message, fields) => logger.warn(message, fields),
    }),
  );
};

// In Lambda, built at cold start: missing configuration fails the init, and the records stay in the stream.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) built = build();

export const handler = (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => (built ??= build())(event);
