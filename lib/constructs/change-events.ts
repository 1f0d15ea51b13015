import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Alarms } from './alarms.js';
import { MfaFunction } from './mfa-function.js';

export interface ChangeEventsProps {
  /** The MFA table; its stream must carry NEW_IMAGE. */
  table: ITable;
  logRetention: RetentionDays;
  logLevel: string;
}

/** The environment variable naming the bus, for the publisher. */
export const EVENT_BUS_ENV = 'MFA_EVENT_BUS_NAME';

/** Attempts per batch before its records go to the dead-letter queue (bisecting on each error). */
export const STREAM_RETRY_ATTEMPTS = 5;

/**
 * Feeds `fn` from the table's stream as every consumer of it is fed (the change-event publisher,
 * the security notices): batches of 100 from the oldest record, a failing batch split in halves
 * and retried, the handler's `{ batchItemFailures }` honoured, records older than 24 h or failing
 * after the retries parked in `deadLetterQueue`.
 */
export function consumeTableStream(fn: MfaFunction, table: ITable, deadLetterQueue: IQueue): void {
  fn.function.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      bisectBatchOnError: true,
      retryAttempts: STREAM_RETRY_ATTEMPTS,
      // The handler may answer { batchItemFailures } to retry from the first failed record only.
      reportBatchItemFailures: true,
      maxRecordAge: Duration.hours(24),
      onFailure: new SqsDlq(deadLetterQueue),
    }),
  );
  fn.acknowledgeInvocation({
    deadLetterQueue: 'Only its DynamoDB stream event source mapping invokes this function; failed batches go to the mapping on-failure SQS queue, a function DLQ would never receive anything.',
    asyncFailureDestination: 'Only its DynamoDB stream event source mapping invokes this function (synchronously, by the poller); its on-failure destination is the mapping SQS queue.',
  });
  Validations.of(fn.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Reading the table stream needs dynamodb:ListStreams, and active tracing xray:PutTraceSegments/PutTelemetryRecords: none of them supports a resource other than "*".',
  });
}

/**
 * MFA change events for other systems (notify the user, feed a SIEM): the table's stream feeds
 * one function (functions/streams/publish-events.ts), which puts the events on the stack's own
 * EventBridge bus. A failing batch is split in halves and retried; records that still fail go
 * to an SQS dead-letter queue (the record's stream coordinates, not its data), which pages.
 */
export class ChangeEvents extends Construct {
  readonly bus: EventBus;
  readonly publisher: MfaFunction;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ChangeEventsProps) {
    super(scope, id);

    this.bus = new EventBus(this, 'Bus', { description: 'serverless-mfa: MFA change events (enrolled, disabled, locked out...)' });

    this.publisher = new MfaFunction(this, 'PublishEvents', {
      asset: 'publish-events',
      description: 'serverless-mfa publishEvents: MFA table stream -> EventBridge',
      logRetention: props.logRetention,
      logLevel: props.logLevel,
    });
    this.grantPublish(this.publisher);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue (on-failure destination) of the stream event source mapping; nothing consumes it automatically.' },
      { id: 'Serverless-SQSRedrivePolicy', reason: 'This queue is itself the dead-letter queue (on-failure destination) of the stream event source mapping: there is no further queue to redrive to.' },
    );

    consumeTableStream(this.publisher, props.table, this.deadLetterQueue);
  }

  /** Lets a function put events on the bus (and only there), and names the bus in its configuration. */
  grantPublish(fn: MfaFunction): void {
    this.bus.grantPutEventsTo(fn.role);
    fn.addEnvironment(EVENT_BUS_ENV, this.bus.eventBusName);
  }

  /** The publisher's errors and throttles, and the first dead-lettered record, page. */
  addAlarms(alarms: Alarms): void {
    alarms.watchFunction(this.publisher);
    alarms.addAlarm(
      'ChangeEventsDeadLetters',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      1,
      'MFA change events could not be published after retries: records are parked in the dead-letter queue (see docs/deploying.md, Operations).',
    );
  }
}
