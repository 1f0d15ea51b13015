import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { NOTICE } from '../../functions/adapters/aws/mfa-item.js';
import { serviceEnvironment } from '../../functions/settings-schema.js';
import type { Alarms } from './alarms.js';
import { consumeTableStream } from './change-events.js';
import type { DataAndKeys } from './data-and-keys.js';
import type { MailSending } from './mail-sending.js';
import { MfaFunction } from './mfa-function.js';

export interface SecurityNotificationsProps {
  table: ITable;
  dataAndKeys: DataAndKeys;
  mail: MailSending;
  /** Where records go that still fail after the retries (the change events' queue: one place to look). */
  deadLetterQueue: IQueue;
  serviceName: string;
  supportUrl?: string | undefined;
  logRetention: RetentionDays;
  logLevel: string;
}

/**
 * Security notices to users (functions/streams/notify-users.ts): a second consumer of the MFA
 * table's stream, off the request path, mailing at most one notice per notice id (a change event's;
 * renames share one per user, kind of method and hour) through SES. Its
 * idempotency records live in the table (UpdateItem only); retries, bisection and the
 * dead-letter queue are the change events' own.
 */
export class SecurityNotifications extends Construct {
  readonly notifier: MfaFunction;

  constructor(scope: Construct, id: string, props: SecurityNotificationsProps) {
    super(scope, id);
    this.notifier = new MfaFunction(this, 'NotifyUsers', {
      asset: 'notify-users',
      description: 'serverless-mfa notifyUsers: MFA table stream -> security notices by email (SES)',
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      environment: serviceEnvironment({ totpIssuerName: props.serviceName, supportUrl: props.supportUrl }),
    });
    // Its own idempotency records only: never a user's item.
    props.dataAndKeys.grantTable(this.notifier, ['dynamodb:UpdateItem'], { leadingKeys: [`${NOTICE.prefix}*`] });
    props.mail.grantSend(this.notifier);

    consumeTableStream(this.notifier, props.table, props.deadLetterQueue);
  }

  addAlarms(alarms: Alarms): void {
    alarms.watchFunction(this.notifier);
  }
}
