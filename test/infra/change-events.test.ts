import { beforeAll, describe, expect, it } from 'vitest';
import { STREAM_RETRY_ATTEMPTS } from '../../lib/constructs/change-events.js';
import { arnOf, logicalId, resource, resources, roleGrants, SKIP_BUNDLING, synthesize, type Synthesized } from './synth.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ context: SKIP_BUNDLING });
});

const events = () => synth.stack.mfa.changeEvents;

describe('change events', () => {
  it('stream the table item after each write (NEW_IMAGE)', () => {
    expect(resource(synth, logicalId(synth.stack.mfa.dataAndKeys.table)).Properties!.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  });

  it('feed the publisher from the stream, bisecting failed batches, retrying, then parking records in an SQS dead-letter queue', () => {
    const mappings = resources(synth, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(synth.stack.mfa.dataAndKeys.table), 'StreamArn'] },
      FunctionName: { Ref: logicalId(events().publisher.function) },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: STREAM_RETRY_ATTEMPTS,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: arnOf(logicalId(events().deadLetterQueue)) } },
    });
    expect(STREAM_RETRY_ATTEMPTS).toBeGreaterThan(0);
    expect(resource(synth, logicalId(events().deadLetterQueue)).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  it('let the publisher put events on the stack bus only, and name the bus in its configuration', () => {
    const role = logicalId(events().publisher.role);
    const puts = roleGrants(synth, role).filter((grant) => grant.action.startsWith('events:'));
    expect(puts).toEqual([{ action: 'events:PutEvents', resource: arnOf(logicalId(events().bus)), condition: undefined }]);
    const env = (resource(synth, logicalId(events().publisher.function)).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.MFA_EVENT_BUS_NAME).toEqual({ Ref: logicalId(events().bus) });
    // No table or key access beyond reading the stream (and the table key DynamoDB Streams decrypts with).
    const actions = roleGrants(synth, role).map((grant) => grant.action);
    expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
    for (const grant of roleGrants(synth, role).filter((g) => g.action.startsWith('kms:'))) {
      expect(['kms:Decrypt', 'kms:DescribeKey']).toContain(grant.action);
      expect(grant.resource).toEqual(arnOf(logicalId(synth.stack.mfa.dataAndKeys.tableKey)));
    }
  });

  it('page on the first dead-lettered record, and on publisher errors', () => {
    const alarms = resources(synth, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties!);
    const topic = { Ref: logicalId(synth.stack.mfa.alarms.topic) };
    expect(alarms.find((alarm) => JSON.stringify(alarm.Dimensions).includes(logicalId(events().deadLetterQueue)))).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topic],
    });
    const publisherErrors = alarms.find(
      (alarm) => alarm.MetricName === 'Errors' && JSON.stringify(alarm.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: logicalId(events().publisher.function) } }]),
    );
    expect(publisherErrors).toMatchObject({ AlarmActions: [topic] });
  });

  it('name the bus and the dead-letter queue in the outputs', () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.EventBusName!.Value).toEqual({ Ref: logicalId(events().bus) });
    expect(outputs.EventsDeadLetterQueueUrl!.Value).toEqual({ Ref: logicalId(events().deadLetterQueue) });
  });
});
