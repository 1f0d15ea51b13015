import { Names, Stack } from 'aws-cdk-lib';
import { CfnRule, EventField, Rule, RuleTargetInput, type IRuleRef, type IRuleTarget, type RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface CloudTrailAlertProps {
  description: string;
  /** The event's `source` (`aws.kms`, `aws.dynamodb`). */
  source: string;
  /** The pattern on the CloudTrail record (`detail`). */
  detail: Record<string, unknown>;
  /** `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` for read-only management events (KMS Decrypt, Sign). */
  state?: 'ENABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
  topic: ITopic;
  /** Where an alert EventBridge could not deliver to the topic is kept. */
  deadLetterQueue: IQueue;
}

/**
 * A rule on CloudTrail's "AWS API Call via CloudTrail" events that sends the essentials of each
 * match (what, who, when, from where, the CloudTrail event id) to the alarm topic.
 */
export function cloudTrailAlertRule(scope: Construct, id: string, props: CloudTrailAlertProps): Rule {
  const rule = new Rule(scope, id, {
    description: props.description,
    eventPattern: { source: [props.source], detailType: ['AWS API Call via CloudTrail'], detail: props.detail },
  });
  if (props.state) (rule.node.defaultChild as CfnRule).state = props.state;
  rule.addTarget(
    new AlertTopicTarget(
      props.topic,
      props.deadLetterQueue,
      RuleTargetInput.fromObject({
        alarm: id,
        description: props.description,
        eventName: EventField.fromPath('$.detail.eventName'),
        caller: EventField.fromPath('$.detail.userIdentity.arn'),
        errorCode: EventField.fromPath('$.detail.errorCode'),
        time: EventField.fromPath('$.time'),
        sourceIPAddress: EventField.fromPath('$.detail.sourceIPAddress'),
        cloudTrailEventId: EventField.fromPath('$.detail.eventID'),
      }),
    ),
  );
  return rule;
}

/**
 * The alarm topic as a rule's target. Unlike aws-events-targets' SnsTopic, which lets
 * `events.amazonaws.com` publish on behalf of any rule of any account, the topic policy lets
 * EventBridge publish for this rule of this account only (`aws:SourceArn`, `aws:SourceAccount`:
 * no confused deputy); the dead-letter queue likewise takes this rule's undelivered alerts only.
 */
class AlertTopicTarget implements IRuleTarget {
  constructor(
    private readonly topic: ITopic,
    private readonly deadLetterQueue: IQueue,
    private readonly message: RuleTargetInput,
  ) {}

  bind(rule: IRuleRef): RuleTargetConfig {
    const events = new ServicePrincipal('events.amazonaws.com');
    const fromRule = { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } };
    const sid = `AllowAlertsOf${Names.nodeUniqueId(rule.node)}`;
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid,
        principals: [events],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ...fromRule, StringEquals: { 'aws:SourceAccount': Stack.of(rule).account } },
      }),
    );
    this.deadLetterQueue.addToResourcePolicy(
      new PolicyStatement({ sid, principals: [events], actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn], conditions: fromRule }),
    );
    return { arn: this.topic.topicArn, input: this.message, deadLetterConfig: { arn: this.deadLetterQueue.queueArn }, targetResource: this.topic };
  }
}
