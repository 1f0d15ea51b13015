import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Rule } from 'aws-cdk-lib/aws-events';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cloudTrailAlertRule } from './alert-rule.js';
import type { Alarms } from './alarms.js';
import { TABLE_WRITE_EVENTS } from './audit-trail.js';

export interface TableWriteWatchProps {
  table: ITable;
  /** The function roles granted a table write: their writes are expected. */
  writers: readonly IRole[];
  alarms: Alarms;
  /** Where an alert EventBridge could not deliver is kept (the key-use watch's queue, which pages). */
  deadLetterQueue: IQueue;
}

/**
 * Pages when anyone but the function roles writes (or tries to write) an item of the MFA table:
 * a principal with `dynamodb:UpdateItem` could otherwise put its own public key into any user's
 * authenticators, silently. An EventBridge rule on the table's CloudTrail data events (item
 * writes, PartiQL included), so it needs a trail recording them: the stack's own
 * (lib/constructs/audit-trail.ts), or an organisation trail with the same selector. A denied
 * attempt is recorded and matched too.
 */
export class TableWriteWatch extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: TableWriteWatchProps) {
    super(scope, id);
    const writerArns = props.writers.map((role) => role.roleArn);
    this.rule = cloudTrailAlertRule(this, 'TableWrittenByOtherPrincipal', {
      description: 'serverless-mfa: the MFA table written by a principal other than the function roles',
      source: 'aws.dynamodb',
      detail: {
        eventSource: ['dynamodb.amazonaws.com'],
        eventName: TABLE_WRITE_EVENTS,
        resources: { ARN: [props.table.tableArn] },
        $or: [
          // An assumed role that is not a function role granted a write...
          { userIdentity: { type: ['AssumedRole'], sessionContext: { sessionIssuer: { arn: writerArns.length > 0 ? [{ 'anything-but': writerArns }] : [{ exists: true }] } } } },
          // ...or any other kind of caller: IAM user, root, federated user, another account.
          { userIdentity: { type: [{ 'anything-but': ['AssumedRole'] }] } },
        ],
      },
      topic: props.alarms.topic,
      deadLetterQueue: props.deadLetterQueue,
    });
  }
}
