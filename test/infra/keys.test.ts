import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/http/routes.js';
import { TABLE_WRITE_EVENTS } from '../../lib/constructs/audit-trail.js';
import { KEY_ADMINISTRATION_ACTIONS, TABLE_KEY_USE_ACTIONS, TABLE_WRITE_ACTIONS } from '../../lib/constructs/data-and-keys.js';
import { WATCHED_KEY_OPERATIONS } from '../../lib/constructs/key-use-watch.js';
import { arnOf, logicalId, resource, resources, SKIP_BUNDLING, synthesize, type Statement, type Synthesized } from './synth.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ context: SKIP_BUNDLING });
});

const actionsOf = (statement: Statement) => ([] as string[]).concat(statement.Action);
const keyPolicy = (keyId: string) => (resource(synth, keyId).Properties!.KeyPolicy as { Statement: (Statement & { Sid?: string; Principal: unknown })[] }).Statement;
const roleArnOfRoute = (routeId: string) => arnOf(logicalId(synth.stack.mfa.functions.byRoute.get(routeId)!.fn.role));
const ACCOUNT_ROOT = { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } };
const USE_ACTIONS = ['kms:Sign', 'kms:Decrypt', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:CreateGrant', 'kms:*'];

/** What the route table says each role may do with a key, as `{ role ARN ref: sorted actions }`. */
function expectedUse(pick: (route: (typeof ROUTES)[number]) => readonly string[]): Map<string, string[]> {
  return new Map(ROUTES.filter((route) => pick(route).length > 0).map((route) => [JSON.stringify(roleArnOfRoute(route.id)), [...pick(route)].sort()]));
}

/** Who the key policy lets use the key: `{ principal: sorted actions }`, over every Allow statement but the account's. */
function allowedUse(keyId: string): Map<string, string[]> {
  const use = new Map<string, string[]>();
  for (const statement of keyPolicy(keyId).filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Principal) !== JSON.stringify(ACCOUNT_ROOT))) {
    const principal = JSON.stringify((statement.Principal as { AWS: unknown }).AWS);
    use.set(principal, [...(use.get(principal) ?? []), ...actionsOf(statement)].sort());
  }
  return use;
}

describe.each([
  { name: 'TOTP-secret key', key: () => logicalId(synth.stack.mfa.dataAndKeys.totpSecretKey), pick: (route: (typeof ROUTES)[number]) => route.access.secretKey },
  { name: 'signing key', key: () => logicalId(synth.stack.mfa.dataAndKeys.signingKey), pick: (route: (typeof ROUTES)[number]) => route.access.signingKey },
])('the $name policy', ({ key, pick }) => {
  it('lets the account administer the key but never use it', () => {
    const root = keyPolicy(key()).filter((statement) => JSON.stringify(statement.Principal) === JSON.stringify(ACCOUNT_ROOT));
    expect(root).toHaveLength(1);
    expect(root[0]!.Effect).toBe('Allow');
    expect(actionsOf(root[0]!).sort()).toEqual([...KEY_ADMINISTRATION_ACTIONS].sort());
    for (const action of actionsOf(root[0]!)) {
      expect(USE_ACTIONS, action).not.toContain(action);
      expect(action).not.toContain('*');
    }
    expect(actionsOf(root[0]!)).toContain('kms:PutKeyPolicy');
  });

  it('lets exactly the function roles whose routes need the key use it, with exactly the actions the route table lists', () => {
    expect(allowedUse(key())).toEqual(expectedUse(pick));
    expect(allowedUse(key()).size).toBeGreaterThan(0);
  });

  it("allows nothing to any principal but the account (administration) and those roles", () => {
    for (const statement of keyPolicy(key()).filter((s) => s.Effect === 'Allow')) {
      expect(JSON.stringify(statement.Principal)).not.toContain('"*"');
    }
  });
});

describe('key policy conditions', () => {
  it('repeat on the key the encryption-context conditions of the role policies (TOTP key) and the signing algorithm (Sign)', () => {
    const totp = keyPolicy(logicalId(synth.stack.mfa.dataAndKeys.totpSecretKey)).filter((s) => s.Sid?.startsWith('AllowUseBy'));
    for (const statement of totp) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'kms:EncryptionContext:service': 'serverless-mfa', 'kms:EncryptionContext:purpose': ['totp-secret', 'email-code'] },
        'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['userId'] },
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['service', 'purpose', 'userId'] },
      });
    }
    const sign = keyPolicy(logicalId(synth.stack.mfa.dataAndKeys.signingKey)).filter((s) => actionsOf(s).includes('kms:Sign'));
    expect(sign).toHaveLength(1);
    expect(sign[0]!.Condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' } });
  });
});

describe('key-use alerts', () => {
  const rules = () => resources(synth, 'AWS::Events::Rule').map(([, rule]) => rule.Properties as { EventPattern: any; State: string; Targets: any[] });

  it.each([
    { name: 'TOTP-secret key', key: () => synth.stack.mfa.dataAndKeys.totpSecretKey, pick: (route: (typeof ROUTES)[number]) => route.access.secretKey },
    { name: 'signing key', key: () => synth.stack.mfa.dataAndKeys.signingKey, pick: (route: (typeof ROUTES)[number]) => route.access.signingKey },
  ])('page when anyone but the $name roles uses it, including denied attempts and non-role callers', ({ key, pick }) => {
    const keyArn = arnOf(logicalId(key()));
    const rule = rules().find((r) => JSON.stringify(r.EventPattern.detail.resources) === JSON.stringify({ ARN: [keyArn] }) && r.EventPattern.detail.$or);
    expect(rule).toBeDefined();
    expect(rule!.EventPattern).toMatchObject({ source: ['aws.kms'], 'detail-type': ['AWS API Call via CloudTrail'] });
    // No errorCode filter: a refused attempt pages too.
    expect(rule!.EventPattern.detail.errorCode).toBeUndefined();
    const branches = rule!.EventPattern.detail.$or as { eventName: string[]; userIdentity: any }[];
    const other = branches.find((branch) => branch.userIdentity.type[0]['anything-but']);
    expect(other).toEqual({ eventName: WATCHED_KEY_OPERATIONS, userIdentity: { type: [{ 'anything-but': ['AssumedRole'] }] } });
    expect(WATCHED_KEY_OPERATIONS).toEqual(expect.arrayContaining(['Sign', 'Decrypt', 'Encrypt', 'GenerateDataKey', 'CreateGrant']));
    // Each operation, once: an assumed role pages unless its route lists exactly that operation on this key.
    const roleBranches = branches.filter((branch) => branch !== other);
    expect(roleBranches.flatMap((branch) => branch.eventName).sort()).toEqual([...WATCHED_KEY_OPERATIONS].sort());
    for (const operation of WATCHED_KEY_OPERATIONS) {
      const branch = roleBranches.find((candidate) => candidate.eventName.includes(operation))!;
      const allowed = ROUTES.filter((route) => (pick(route) as readonly string[]).includes(`kms:${operation}`)).map((route) => roleArnOfRoute(route.id));
      expect(branch.userIdentity.type, operation).toEqual(['AssumedRole']);
      expect(branch.userIdentity.sessionContext.sessionIssuer.arn, operation).toEqual(allowed.length > 0 ? [{ 'anything-but': allowed }] : [{ exists: true }]);
    }
    expect(roleBranches.find((branch) => branch.eventName.includes('CreateGrant'))!.userIdentity.sessionContext.sessionIssuer.arn).toEqual([{ exists: true }]);
    // Sign and Decrypt are read-only management events: delivered only in this state.
    expect(rule!.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    expect(rule!.Targets).toEqual([
      expect.objectContaining({ Arn: { Ref: logicalId(synth.stack.mfa.alarms.topic) }, DeadLetterConfig: { Arn: arnOf(logicalId(synth.stack.mfa.keyUseWatch.deadLetterQueue)) } }),
    ]);
  });

  it('page when the key policy of either key changes (the break-glass path)', () => {
    for (const key of [synth.stack.mfa.dataAndKeys.totpSecretKey, synth.stack.mfa.dataAndKeys.signingKey]) {
      expect(rules().find((r) => JSON.stringify(r.EventPattern.detail) === JSON.stringify({ eventSource: ['kms.amazonaws.com'], eventName: ['PutKeyPolicy'], resources: { ARN: [arnOf(logicalId(key))] } }))).toBeDefined();
    }
  });

  it('let EventBridge publish to the encrypted alarm topic, and page when an alert could not be delivered', () => {
    const topicKey = resources(synth, 'AWS::KMS::Key').find(([, key]) => String(key.Properties!.Description).includes('alarm topic'))!;
    const statements = (topicKey[1].Properties!.KeyPolicy as { Statement: (Statement & { Principal: unknown })[] }).Statement;
    expect(statements.find((s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }))).toBeDefined();
    const queueId = logicalId(synth.stack.mfa.keyUseWatch.deadLetterQueue);
    const alarm = resources(synth, 'AWS::CloudWatch::Alarm').find(([, a]) => JSON.stringify(a.Properties!.Dimensions).includes(queueId));
    expect(alarm?.[1].Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, AlarmActions: [{ Ref: logicalId(synth.stack.mfa.alarms.topic) }] });
  });
});

describe('the table key policy', () => {
  const statements = () => keyPolicy(logicalId(synth.stack.mfa.dataAndKeys.tableKey));
  const ofAccount = () => statements().filter((statement) => JSON.stringify(statement.Principal) === JSON.stringify(ACCOUNT_ROOT));

  it('lets the account administer the key, never use it directly: no kms:* and no use without conditions', () => {
    const administration = ofAccount().find((statement) => statement.Sid === 'AllowKeyAdministrationByAccount')!;
    expect(actionsOf(administration).sort()).toEqual([...KEY_ADMINISTRATION_ACTIONS].sort());
    expect(administration.Condition).toBeUndefined();
    for (const statement of statements()) {
      expect(statement.Effect).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action, statement.Sid).not.toContain('*');
      expect(JSON.stringify(statement.Principal), statement.Sid).not.toContain('"*"');
    }
  });

  it("lets DynamoDB use it only on behalf of the account's principals, in the stack's region (kms:ViaService, kms:CallerAccount)", () => {
    const use = statements().filter((statement) => actionsOf(statement).some((action) => USE_ACTIONS.includes(action)));
    expect(use).toHaveLength(1);
    expect(use[0]).toMatchObject({ Sid: 'AllowUseThroughDynamoDbByAccountPrincipals', Principal: ACCOUNT_ROOT, Resource: '*' });
    expect(actionsOf(use[0]!).sort()).toEqual([...TABLE_KEY_USE_ACTIONS].sort());
    expect(use[0]!.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        'kms:CallerAccount': { Ref: 'AWS::AccountId' },
      },
    });
  });

  it('lets the DynamoDB service itself only read the key (its state and grants)', () => {
    const service = statements().filter((statement) => JSON.stringify(statement.Principal).includes('Service'));
    expect(service).toHaveLength(1);
    expect(service[0]!.Principal).toEqual({ Service: 'dynamodb.amazonaws.com' });
    for (const action of actionsOf(service[0]!)) expect(action).toMatch(/^kms:(Describe|Get|List)/);
    expect(statements()).toHaveLength(3);
  });
});

describe('table-write alert', () => {
  const rule = () => {
    const found = resources(synth, 'AWS::Events::Rule').filter(([, candidate]) => (candidate.Properties!.EventPattern as { source: string[] }).source[0] === 'aws.dynamodb');
    expect(found).toHaveLength(1);
    return found[0]![1].Properties as { EventPattern: any; State: string; Targets: any[] };
  };

  it('pages when any principal but the function roles granted a write writes an item of the table, denied attempts included', () => {
    const { EventPattern: pattern, State: state } = rule();
    expect(pattern).toMatchObject({ 'detail-type': ['AWS API Call via CloudTrail'] });
    expect(pattern.detail).toMatchObject({ eventSource: ['dynamodb.amazonaws.com'], eventName: TABLE_WRITE_EVENTS, resources: { ARN: [arnOf(logicalId(synth.stack.mfa.dataAndKeys.table))] } });
    expect(pattern.detail.errorCode).toBeUndefined();
    const writers = ROUTES.filter((route) => route.access.table.some((action) => TABLE_WRITE_ACTIONS.includes(action))).map((route) => roleArnOfRoute(route.id));
    expect(writers.length).toBeGreaterThan(0);
    // Read-only functions are not expected writers: a write from one pages.
    expect(writers).not.toContainEqual(roleArnOfRoute('getMfaStatus'));
    expect(pattern.detail.$or).toEqual([
      { userIdentity: { type: ['AssumedRole'], sessionContext: { sessionIssuer: { arn: [{ 'anything-but': writers }] } } } },
      { userIdentity: { type: [{ 'anything-but': ['AssumedRole'] }] } },
    ]);
    // Writes are not read-only events: the plain enabled state receives them.
    expect(state).toBe('ENABLED');
  });

  it('alerts the alarm topic, and keeps what it could not deliver in the queue that pages', () => {
    expect(rule().Targets).toEqual([
      expect.objectContaining({ Arn: { Ref: logicalId(synth.stack.mfa.alarms.topic) }, DeadLetterConfig: { Arn: arnOf(logicalId(synth.stack.mfa.keyUseWatch.deadLetterQueue)) } }),
    ]);
  });
});

describe('who may publish alerts (no confused deputy)', () => {
  const policyOf = (type: string, target: string) => {
    const [, policy] = resources(synth, type).find(([, candidate]) => JSON.stringify(candidate.Properties).includes(`"${target}"`))!;
    return (policy.Properties!.PolicyDocument as { Statement: (Statement & { Sid?: string; Principal: unknown })[] }).Statement.filter((statement) => statement.Effect === 'Allow');
  };
  const ruleArns = () => resources(synth, 'AWS::Events::Rule').map(([id]) => arnOf(id));

  it('lets EventBridge publish to the alarm topic for each alert rule of this account only (aws:SourceArn, aws:SourceAccount)', () => {
    const topicId = logicalId(synth.stack.mfa.alarms.topic);
    const events = policyOf('AWS::SNS::TopicPolicy', topicId).filter((statement) => JSON.stringify(statement.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }));
    expect(events.map((statement) => statement.Condition!.ArnEquals!['aws:SourceArn'])).toEqual(expect.arrayContaining(ruleArns()));
    expect(events).toHaveLength(ruleArns().length);
    for (const statement of events) {
      expect(statement.Action).toBe('sns:Publish');
      expect(statement.Condition!.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    }
  });

  it("lets CloudWatch publish to the alarm topic for this account's alarms only", () => {
    const cloudWatch = policyOf('AWS::SNS::TopicPolicy', logicalId(synth.stack.mfa.alarms.topic)).filter(
      (statement) => JSON.stringify(statement.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
    );
    expect(cloudWatch).toHaveLength(1);
    expect(cloudWatch[0]!.Condition).toEqual({
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']] } },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
  });

  it('has no other principal allowed on the topic, and the undelivered-alert queue takes only the alert rules', () => {
    const principals = policyOf('AWS::SNS::TopicPolicy', logicalId(synth.stack.mfa.alarms.topic)).map((statement) => JSON.stringify(statement.Principal));
    expect(new Set(principals)).toEqual(new Set([JSON.stringify({ Service: 'events.amazonaws.com' }), JSON.stringify({ Service: 'cloudwatch.amazonaws.com' })]));
    const queue = policyOf('AWS::SQS::QueuePolicy', logicalId(synth.stack.mfa.keyUseWatch.deadLetterQueue));
    expect(queue.map((statement) => statement.Condition!.ArnEquals!['aws:SourceArn'])).toEqual(expect.arrayContaining(ruleArns()));
    expect(queue).toHaveLength(ruleArns().length);
  });
});
