import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IHttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AUDIT_METRICS } from '../../functions/adapters/powertools-audit-log.js';
import { POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME, type MfaFunction } from './mfa-function.js';

export interface AlarmsProps {
  functions: MfaFunction[];
  stage: IHttpStage;
  lockoutThreshold: number;
  failedCodeChecksThreshold: number;
  /** Subscribed to the topic by email when given. */
  email: string | undefined;
  /** Notify this topic instead of creating one (it must let CloudWatch alarms and EventBridge publish). */
  topic?: ITopic;
}

const PERIOD = Duration.minutes(5);
/** API 5xx responses in five minutes that page someone: a handful is an outage, not noise. */
const API_5XX_THRESHOLD = 5;

/**
 * What pages an operator, all to one SNS topic: any function error or throttle, API 5xx, a
 * spike in failed code checks or lockouts (the Powertools metrics the audit log emits), which
 * is what a credential-stuffing or code-guessing campaign looks like from here, and any
 * suspected cloned security key (a signature counter that went backwards).
 */
export class Alarms extends Construct {
  readonly topic: ITopic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);

    this.topic = props.topic ?? this.createTopic();
    if (props.email) {
      this.topic.addSubscription(new EmailSubscription(props.email));
      if (this.topic instanceof Topic) {
        Validations.of(this.topic).acknowledge({
          id: 'Serverless-SNSRedrivePolicy',
          reason: 'The only subscription is an operator email; undelivered alarm notifications stay visible as alarm state in CloudWatch, a dead-letter queue would hold copies nobody reads.',
        });
      }
    }

    for (const fn of props.functions) this.watchFunction(fn);
    this.addAlarm('Api5xx', props.stage.metricServerError({ period: PERIOD, statistic: 'Sum' }), API_5XX_THRESHOLD, 'The API answered with 5xx responses.');
    this.addAlarm(
      'LockoutSpike',
      auditMetric(AUDIT_METRICS.lockouts),
      props.lockoutThreshold,
      'Unusually many MFA lockouts: possible code-guessing campaign. See docs/auditing.md ("all lockouts today").',
    );
    this.addAlarm(
      'FailedCodeChecksSpike',
      auditMetric(AUDIT_METRICS.failedCodeChecks),
      props.failedCodeChecksThreshold,
      'Unusually many failed MFA code checks: possible code-guessing campaign.',
    );
    this.addAlarm(
      'SuspectedKeyClone',
      auditMetric(AUDIT_METRICS.suspectedKeyClones),
      1,
      'A security key signed with a signature counter that went backwards: possibly a cloned key. The change event authenticator.clone_suspected names the user and the key; see docs/auditing.md.',
    );
  }

  /** Errors and throttles of a function. */
  watchFunction(fn: MfaFunction): void {
    const name = fn.node.id;
    this.addAlarm(`${name}Errors`, fn.function.metricErrors({ period: PERIOD, statistic: 'Sum' }), 1, `${name}: the function failed (unhandled error, timeout or cold-start configuration error).`);
    this.addAlarm(`${name}Throttles`, fn.function.metricThrottles({ period: PERIOD, statistic: 'Sum' }), 1, `${name}: invocations were throttled.`);
  }

  /** SNS's AWS managed key lets neither CloudWatch nor EventBridge publish: the topic needs its own key. */
  private createTopic(): Topic {
    const topicKey = new Key(this, 'TopicKey', {
      description: 'serverless-mfa: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowEventBridgeRulesToPublish',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    const topic = new Topic(this, 'Topic', { displayName: 'serverless-mfa alarms', masterKey: topicKey, enforceSSL: true });
    // The topic policy replaces SNS's default one: CloudWatch may publish for this account's
    // alarms only (no confused deputy). EventBridge is allowed per rule (lib/constructs/alert-rule.ts).
    const { account, region, partition } = Stack.of(this);
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowAlarmsOfThisAccountToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` }, StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    return topic;
  }

  addAlarm(id: string, metric: IMetric, threshold: number, description: string): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}

/** A metric the audit log emits through Powertools (namespace and `service` dimension as the functions set them). */
function auditMetric(metricName: string): Metric {
  return new Metric({
    namespace: POWERTOOLS_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
    statistic: 'Sum',
    period: PERIOD,
  });
}
