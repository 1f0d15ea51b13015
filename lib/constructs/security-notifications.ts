import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { NOTICE } from '../../functions/adapters/aws/mfa-item.js';
import { serviceEnvironment } from '../../functions/settings-schema.js';
import type { Alarms } from './alarms.js';
import { STREAM_RETRY_ATTEMPTS } from './change-events.js';
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
 * table's stream, off the request path, mailing one notice per change event through SES. Its
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

    this.notifier.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        reportBatchItemFailures: true,
        maxRecordAge: Duration.hours(24),
        onFailure: new SqsDlq(props.deadLetterQueue),
      }),
    );
    this.notifier.acknowledgeInvocation({
      deadLetterQueue: 'Only its DynamoDB stream event source mapping invokes this function; failed batches go to the mapping on-failure SQS queue, a function DLQ would never receive anything.',
      asyncFailureDestination: 'Only its DynamoDB stream event source mapping invokes this function (synchronously, by the poller); its on-failure destination is the mapping SQS queue.',
    });
    Validations.of(this.notifier.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Reading the table stream needs dynamodb:ListStreams, and active tracing xray:PutTraceSegments/PutTelemetryRecords: none of them supports a resource other than "*".',
    });
  }

  addAlarms(alarms: Alarms): void {
    alarms.watchFunction(this.notifier);
  }
}
