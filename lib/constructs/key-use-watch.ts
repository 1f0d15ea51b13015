import { Duration, Validations } from 'aws-cdk-lib';
import type { Rule } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cloudTrailAlertRule } from './alert-rule.js';
import type { Alarms } from './alarms.js';
import type { KeyUser } from './data-and-keys.js';

/** Every KMS operation that uses a key's material (what an intruder would call), and the key-policy change that precedes one. */
export const WATCHED_KEY_OPERATIONS = [
  'Sign',
  'Decrypt',
  'Encrypt',
  'ReEncrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'CreateGrant',
];

export interface WatchedKey {
  /** Names the rule (`<name>UsedByOtherPrincipal`). */
  name: string;
  key: IKey;
  /** The roles the key policy lets use the key: their calls are expected. */
  users: readonly KeyUser[];
}

export interface KeyUseWatchProps {
  keys: WatchedKey[];
  /** The alerts go to its topic; an alert that cannot be delivered raises one of its alarms. */
  alarms: Alarms;
}

/**
 * Pages when anyone but the function roles uses (or tries to use) the TOTP-secret or signing
 * key, and when anyone changes their key policy (the break-glass path). EventBridge rules on the
 * CloudTrail management events of KMS: they need a trail recording management events in this
 * region (the stack's own, or an organisation trail). A denied attempt is recorded and matched
 * too. Sign and Decrypt are read-only events, which a rule receives only in the state
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS.
 */
export class KeyUseWatch extends Construct {
  readonly rules: Rule[] = [];
  /** Alerts EventBridge could not deliver to the topic (this watch's and the table-write watch's). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: KeyUseWatchProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'UndeliveredAlerts', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the key-use alert rules: it holds alerts EventBridge could not deliver to the alarm topic.' },
      { id: 'Serverless-SQSRedrivePolicy', reason: 'This queue is itself the dead-letter queue of the key-use alert rules: there is no further queue to redrive undelivered alerts to.' },
    );
    props.alarms.addAlarm(
      'KeyUseAlertsUndelivered',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      1,
      'An alert (TOTP-secret or signing key used by another principal, a key policy changed, or the table written by another principal) could not be delivered: read it from the queue.',
    );
    for (const watched of props.keys) {
      const useByOthers = this.rule(`${watched.name}UsedByOtherPrincipal`, props.alarms, `serverless-mfa: ${watched.name} used by a principal other than its function roles`, {
        resources: { ARN: [watched.key.keyArn] },
        $or: [
          // Per operation, an assumed role that is not one the key policy allows that operation...
          ...expectedCallers(watched.users).map(({ operations, roleArns }) => ({
            eventName: operations,
            userIdentity: { type: ['AssumedRole'], sessionContext: { sessionIssuer: { arn: roleArns.length > 0 ? [{ 'anything-but': roleArns }] : [{ exists: true }] } } },
          })),
          // ...or any other kind of caller: IAM user, root, federated user, another account.
          { eventName: WATCHED_KEY_OPERATIONS, userIdentity: { type: [{ 'anything-but': ['AssumedRole'] }] } },
        ],
      });
      this.rules.push(useByOthers);
      this.rules.push(
        this.rule(`${watched.name}PolicyChanged`, props.alarms, `serverless-mfa: the key policy of ${watched.name} changed (break-glass, or a deployment that changed it)`, {
          eventName: ['PutKeyPolicy'],
          resources: { ARN: [watched.key.keyArn] },
        }),
      );
    }
  }

  private rule(id: string, alarms: Alarms, description: string, detail: Record<string, unknown>): Rule {
    // Sign, Decrypt and GenerateDataKey* are read-only management events.
    return cloudTrailAlertRule(this, id, {
      description,
      source: 'aws.kms',
      detail: { eventSource: ['kms.amazonaws.com'], ...detail },
      state: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      topic: alarms.topic,
      deadLetterQueue: this.deadLetterQueue,
    });
  }
}

/**
 * The watched operations grouped by the roles allowed each (the key policy's `AllowUseBy...`
 * statements): `{operations: ['Decrypt'], roleArns: [...]}`, and the operations nobody may call
 * with no role at all. A role calling an operation it is not allowed still pages.
 */
function expectedCallers(users: readonly KeyUser[]): { operations: string[]; roleArns: string[] }[] {
  const groups = new Map<string, { operations: string[]; roleArns: string[] }>();
  for (const operation of WATCHED_KEY_OPERATIONS) {
    const roleArns = users.filter((user) => user.actions.includes(`kms:${operation}`)).map((user) => user.role.roleArn);
    const key = roleArns.join('|');
    const group = groups.get(key) ?? { operations: [], roleArns };
    group.operations.push(operation);
    groups.set(key, group);
  }
  return [...groups.values()];
}
