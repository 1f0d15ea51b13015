import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FeaturePlan, UserPool } from 'aws-cdk-lib/aws-cognito';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type RouteDefinition } from '../../functions/http/routes.js';
import { ServerlessMfa, SettingsError } from '../../lib/index.js';
import { SKIP_BUNDLING } from './synth.js';

/** The operator routes of the route table (auth: 'iam', under /admin). */
const ADMIN_ROUTES: readonly RouteDefinition[] = (ROUTES as readonly RouteDefinition[]).filter((route) => route.auth === 'iam');

/** A consumer's own stack: its user pool, its alarm topic, and serverless-mfa embedded as one construct. */
class ConsumerStack extends Stack {
  readonly mfa: ServerlessMfa;
  readonly pool: UserPool;
  constructor(scope: App, id: string) {
    super(scope, id);
    this.pool = new UserPool(this, 'Users', { featurePlan: FeaturePlan.ESSENTIALS, passwordPolicy: { minLength: 12, requireSymbols: true, requireDigits: true, requireLowercase: true, requireUppercase: true } });
    const client = this.pool.addClient('App', { generateSecret: false, oAuth: { callbackUrls: ['https://app.example.com/'] } });
    const domain = this.pool.addDomain('SignIn', { cognitoDomain: { domainPrefix: 'consumer-example' } });
    Validations.of(this.pool).acknowledge(
      { id: 'AwsSolutions-COG2', reason: 'Consumer test fixture: the second factor is the serverless-mfa construct under test, not Cognito MFA.' },
      { id: 'AwsSolutions-COG3', reason: 'Consumer test fixture: advanced security is the consumer’s choice, not part of the construct under test.' },
      { id: 'AwsSolutions-COG8', reason: 'Consumer test fixture: the threat-protection plan is the consumer’s choice, not part of the construct under test.' },
    );
    const topicKey = new Key(this, 'OnCallKey', { enableKeyRotation: true });
    const alarmTopic = new Topic(this, 'OnCall', { masterKey: topicKey, enforceSSL: true });
    this.mfa = new ServerlessMfa(this, 'Mfa', {
      firstFactor: { userPool: this.pool, clients: [client], signInDomain: domain },
      assertionAudienceMap: { [client.userPoolClientId]: 'https://api.consumer.example' },
      webHosting: true,
      alarmTopic,
    });
  }
}

let outdir: string;
let app: App;
let stack: ConsumerStack;
let template: Template;
let findings: { rule: string; paths: string[] }[];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'mfa-consumer-'));
  app = new App({ outdir, context: SKIP_BUNDLING });
  stack = new ConsumerStack(app, 'Consumer');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (caught) {
    error = caught;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { violations: { ruleName: string; violatingConstructs?: { constructPath: string }[] }[] }[];
  };
  findings = report.pluginReports.flatMap((plugin) => plugin.violations.map((v) => ({ rule: v.ruleName, paths: (v.violatingConstructs ?? []).map((c) => c.constructPath) })));
  if (error && findings.length === 0) throw error;
  template = Template.fromJSON(app.synth().getStackByName('Consumer').template as Record<string, unknown>);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const resolve = (value: unknown) => stack.resolve(value);

describe('ServerlessMfa embedded in a consumer stack', () => {
  it('synthesizes with zero cdk-nag findings (AwsSolutions and Serverless)', () => {
    expect(findings).toEqual([]);
  });

  it("accepts the consumer's user pool tokens: its issuer and app client", () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: {
        Audience: [resolve(stack.mfa.firstFactor.audience[0])],
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', resolve(stack.pool.userPoolId)]] },
      },
    });
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
  });

  it("sends alarms and key-use alerts to the consumer's topic instead of creating one", () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const topicRef = resolve(stack.mfa.alarms.topic.topicArn);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
    for (const rule of Object.values(template.findResources('AWS::Events::Rule'))) expect(rule.Properties.Targets[0].Arn).toEqual(topicRef);
  });

  it("lets EventBridge publish to the consumer's topic for the construct's alert rules of this account only", () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const statements = (policy!.Properties.PolicyDocument as { Statement: { Effect: string; Principal: unknown; Condition?: Record<string, Record<string, unknown>> }[] }).Statement;
    const events = statements.filter((statement) => statement.Effect === 'Allow' && JSON.stringify(statement.Principal).includes('events.amazonaws.com'));
    const rules = Object.keys(template.findResources('AWS::Events::Rule'));
    expect(events.map((statement) => statement.Condition?.ArnEquals?.['aws:SourceArn']).sort()).toEqual(rules.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })).sort());
    for (const statement of events) expect(statement.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
  });

  it('creates a support role with the invoke policy and names it to the operator functions only', () => {
    const role = stack.mfa.adminAccess!.supportRole!;
    expect(role).toBeDefined();
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: [resolve(stack.mfa.adminInvokePolicy!.managedPolicyArn)] });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => fn.Properties as { Description?: string; Environment?: { Variables?: Record<string, unknown> } });
    const named = functions.filter((fn) => fn.Environment?.Variables?.MFA_ADMIN_PRINCIPAL_ARNS !== undefined);
    expect(named.map((fn) => fn.Description).sort()).toEqual(ADMIN_ROUTES.map((route) => `serverless-mfa ${route.id}: ${route.method} ${route.path}`).sort());
    for (const fn of named) expect(fn.Environment!.Variables!.MFA_ADMIN_PRINCIPAL_ARNS).toEqual(resolve(role.roleArn));
  });

  it('puts IAM-authorised routes behind the IAM authorizer and first-factor routes behind the JWT authorizer', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as { RouteKey: string; AuthorizationType?: string });
    for (const route of ADMIN_ROUTES) expect(routes.find((r) => r.RouteKey === `${route.method} ${route.path}`)?.AuthorizationType).toBe('AWS_IAM');
    for (const route of ROUTES.filter((r) => r.auth === 'first-factor')) expect(routes.find((r) => r.RouteKey === `${route.method} ${route.path}`)?.AuthorizationType).toBe('JWT');
  });

  it('outputs a managed policy allowing execute-api:Invoke on exactly the IAM-authorised routes', () => {
    const policy = stack.mfa.adminInvokePolicy!;
    expect(policy).toBeDefined();
    const [document] = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).map((p) => p.Properties.PolicyDocument as { Statement: { Effect: string; Action: unknown; Resource: unknown[] }[] });
    expect(document!.Statement).toHaveLength(1);
    expect(document!.Statement[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
    const expected = ADMIN_ROUTES.map((route) => resolve(stack.mfa.api.httpApi.arnForExecuteApi(route.method, route.path.replace(/\{[^}]+\}/g, '*'), '*')));
    expect(document!.Statement[0]!.Resource).toEqual(expected);
    expect(JSON.stringify(document)).not.toContain('/v1/mfa/');
    expect(JSON.stringify(expected[1])).toContain('/POST/admin/v1/users/*/mfa/reset');
  });

  it('lets only the stream publisher put events on the bus: no route function may', () => {
    const bus = resolve(stack.mfa.changeEvents.bus.eventBusArn);
    const putters = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes('events:PutEvents'));
    expect(putters).toHaveLength(1);
    expect(JSON.stringify(putters[0]!.Properties.PolicyDocument)).toContain(JSON.stringify(bus));
    const publisherRole = resolve(stack.mfa.changeEvents.publisher.role.roleName);
    expect(putters[0]!.Properties.Roles).toEqual([publisherRole]);
  });

  it('validates its props with the same schema as the context parameters', () => {
    const scratch = new Stack(new App({ context: SKIP_BUNDLING }), 'Scratch');
    const firstFactor = { issuerUrl: 'https://login.example.com/', audience: ['app'] };
    expect(() => new ServerlessMfa(scratch, 'A', { firstFactor, totpIssuerName: 'x'.repeat(65) })).toThrow(SettingsError);
    expect(() => new ServerlessMfa(scratch, 'B', { firstFactor, webAuthnOrigins: ['https://app.example.com/path'] })).toThrow(/webAuthnOrigins.0 is not an origin/);
    expect(() => new ServerlessMfa(scratch, 'C', { firstFactor, ...({ webHostng: true } as object) })).toThrow(/unknown setting webHostng/);
    expect(() => new ServerlessMfa(scratch, 'D', { firstFactor: { ...firstFactor, audience: [] } })).toThrow(/audience/);
  });

  it('needs the hosted sign-in domain to host the web client with a user pool', () => {
    const scratch = new Stack(new App({ context: SKIP_BUNDLING }), 'Scratch');
    const pool = new UserPool(scratch, 'Pool');
    expect(() => new ServerlessMfa(scratch, 'Mfa', { firstFactor: { userPool: pool, clients: [pool.addClient('C')] }, webHosting: true })).toThrow(/signInDomain/);
  });
});
