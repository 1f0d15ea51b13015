import { readFileSync } from 'node:fs';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Runtime, RuntimeFamily } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { MFA_TABLE } from '../../functions/adapters/aws/mfa-item.js';
import { AUDIT_METRICS } from '../../functions/adapters/powertools-audit-log.js';
import { loadConfig } from '../../functions/config.js';
import { ROUTES } from '../../functions/http/routes.js';
import { createApp } from '../../lib/app.js';
import { LAMBDA_RUNTIME } from '../../lib/runtime.js';
import { TABLE_WRITE_EVENTS } from '../../lib/constructs/audit-trail.js';
import { arnOf, cdkJsonContext, logicalId, resource, resources, roleGrants, SKIP_BUNDLING, synthesize, type Statement, type Synthesized } from './synth.js';

const EXTERNAL_IDP = {
  firstFactorIssuerUrl: 'https://example.eu.auth0.com/',
  firstFactorAudience: ['https://app.example.com', 'spa-client'],
  corsAllowedOrigins: ['https://app.example.com'],
  createTrail: false,
  alarmEmail: 'oncall@example.com',
  assertionTtlSeconds: 120,
  webHosting: false,
  webAuthnRpId: 'app.example.com',
  webAuthnOrigins: ['https://app.example.com'],
};

/** Without the hosted web client, which the stand-alone cdk.json turns on: the relying party must be named. */
const WITHOUT_WEB = { webHosting: 'false', webAuthnRpId: 'app.example.com' };

let synth: Synthesized;
let external: Synthesized;
let hostedSignIn: Synthesized;
let web: Synthesized;
let withoutWeb: Synthesized;

// Function code is bundled and checked in bundling.test.ts; here only the template matters.
beforeAll(() => {
  synth = synthesize({ context: SKIP_BUNDLING });
  external = synthesize({ context: SKIP_BUNDLING, settings: EXTERNAL_IDP });
  hostedSignIn = synthesize({ context: { ...SKIP_BUNDLING, ...WITHOUT_WEB, userPoolCallbackUrls: 'https://app.example.com/,http://localhost:3000/' } });
  withoutWeb = synthesize({ context: { ...SKIP_BUNDLING, ...WITHOUT_WEB } });
  web = synthesize({ context: { ...SKIP_BUNDLING, webHosting: 'true' } });
});

/** The service's own functions (the web deployment adds CDK's bucket-deployment handler). */
const serviceFunctions = (s: Synthesized) => resources(s, 'AWS::Lambda::Function').filter(([, fn]) => String(fn.Properties!.Description).startsWith('serverless-mfa '));

/** The function serving each route, followed from the API route through its integration. */
function functionOfRoute(s: Synthesized, routeKey: string): { id: string; properties: Record<string, unknown> } {
  const [, route] = resources(s, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties!.RouteKey === routeKey) ?? [];
  if (!route) throw new Error(`No route ${routeKey}`);
  const integrationId = ((route.Properties!.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1] as { Ref: string }).Ref;
  const uri = resource(s, integrationId).Properties!.IntegrationUri as { 'Fn::GetAtt': [string, string] };
  const id = uri['Fn::GetAtt'][0];
  return { id, properties: resource(s, id).Properties! };
}

const routeKey = (route: (typeof ROUTES)[number]) => `${route.method} ${route.path}`;
const roleOf = (fn: { properties: Record<string, unknown> }) => (fn.properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const envOf = (fn: { properties: Record<string, unknown> }) => (fn.properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('descriptions', () => {
  it('name both kinds of method: authenticator apps and security keys', () => {
    const described = [synth.json.Description, ...resources(synth, 'AWS::ApiGatewayV2::Api').map(([, api]) => api.Properties?.Description)];
    for (const description of described) expect(description).toMatch(/authenticator app.*security key/);
  });
});

describe('API', () => {
  it('has exactly one route per route table entry, each invoking the function built for it', () => {
    const keys = resources(synth, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!.RouteKey);
    expect(keys.sort()).toEqual(ROUTES.map(routeKey).sort());
    for (const route of ROUTES) {
      expect(functionOfRoute(synth, routeKey(route)).properties.Description).toBe(`serverless-mfa ${route.id}: ${route.method} ${route.path}`);
    }
  });

  it('puts every first-factor route behind the JWT authorizer, every operator route behind IAM, and leaves only the well-known routes public', () => {
    const [[authorizerId]] = resources(synth, 'AWS::ApiGatewayV2::Authorizer') as [[string, unknown]];
    for (const route of ROUTES) {
      const [, r] = resources(synth, 'AWS::ApiGatewayV2::Route').find(([, candidate]) => candidate.Properties!.RouteKey === routeKey(route))!;
      if (route.auth === 'first-factor') {
        expect(route.path.startsWith('/v1/')).toBe(true);
        expect(r.Properties).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
      } else if (route.auth === 'iam') {
        expect(route.path.startsWith('/admin/v1/')).toBe(true);
        expect(r.Properties!.AuthorizationType).toBe('AWS_IAM');
      } else {
        expect(route.path.startsWith('/.well-known/')).toBe(true);
        expect(r.Properties!.AuthorizationType ?? 'NONE').toBe('NONE');
      }
    }
    expect(ROUTES.filter((route) => route.auth === 'public').map((route) => route.path).sort()).toEqual([
      '/.well-known/jwks.json',
      '/.well-known/openid-configuration',
    ]);
  });

  it('has no /dev route in the cloud', () => {
    const keys = resources(synth, 'AWS::ApiGatewayV2::Route').map(([, r]) => String(r.Properties!.RouteKey));
    expect(keys.filter((key) => / \/dev\//.test(key))).toEqual([]);
  });

  it('uses the default user pool as first-factor issuer when none is configured', () => {
    const poolId = logicalId(withoutWeb.stack.identityProvider!.userPool);
    const clientId = logicalId(withoutWeb.stack.identityProvider!.client);
    withoutWeb.template.resourceCountIs('AWS::Cognito::UserPool', 1);
    withoutWeb.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: clientId }],
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: poolId }]] },
      },
    });
    withoutWeb.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      DeletionProtection: 'ACTIVE',
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
    });
    withoutWeb.template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false, AllowedOAuthFlowsUserPoolClient: false });
    withoutWeb.template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
  });

  it('gives the default user pool a hosted sign-in (code + PKCE) for the configured callback URLs', () => {
    hostedSignIn.template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    hostedSignIn.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: ['https://app.example.com/', 'http://localhost:3000/'],
      SupportedIdentityProviders: ['COGNITO'],
    });
    expect(hostedSignIn.findings).toEqual([]);
  });

  it("uses the operator's issuer and audiences verbatim and creates no user pool when one is configured", () => {
    external.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    external.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://example.eu.auth0.com/', Audience: ['https://app.example.com', 'spa-client'] },
    });
  });

  it('tells every function the audiences the authorizer accepts, from the same setting (the assertion names the one a token carries)', () => {
    for (const route of ROUTES.filter((candidate) => candidate.auth === 'first-factor')) {
      expect(envOf(functionOfRoute(external, routeKey(route))).MFA_FIRST_FACTOR_AUDIENCES, route.id).toBe('https://app.example.com,spa-client');
    }
    // The default user pool's client id: the same reference the authorizer's audience resolves to.
    const [authorizer] = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Authorizer'));
    const poolAudience = (authorizer as { Properties: { JwtConfiguration: { Audience: unknown[] } } }).Properties.JwtConfiguration.Audience[0];
    expect(envOf(functionOfRoute(synth, routeKey(ROUTES.find((route) => route.id === 'verifyMfa')!))).MFA_FIRST_FACTOR_AUDIENCES).toEqual(poolAudience);
  });

  it('allows CORS only for the configured origins', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
    external.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://app.example.com'],
        AllowMethods: ['GET', 'POST'],
        AllowHeaders: ['authorization', 'content-type'],
        ExposeHeaders: ['retry-after'],
      },
    });
  });

  it('throttles the stage and writes JSON access logs to a log group with retention', () => {
    const [, stage] = resources(synth, 'AWS::ApiGatewayV2::Stage')[0]!;
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const access = stage.Properties!.AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    expect(resource(synth, access.DestinationArn['Fn::GetAtt'][0])).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
    expect(JSON.parse(access.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status', userId: '$context.authorizer.claims.sub' });
  });
});

describe('functions', () => {
  it('run on arm64 and the newest Node.js runtime CDK offers, traced actively', () => {
    const newestNode = Object.values(Runtime)
      .filter((value): value is Runtime => value instanceof Runtime && value.family === RuntimeFamily.NODEJS && !value.isVariable)
      .map((runtime) => ({ runtime, major: Number(/^nodejs(\d+)/.exec(runtime.name)?.[1] ?? 0) }))
      .sort((a, b) => b.major - a.major)[0]!;
    expect(LAMBDA_RUNTIME.name).toBe(newestNode.runtime.name);
    expect(newestNode.major).toBeGreaterThanOrEqual(22);

    const functions = serviceFunctions(synth);
    // One per route, plus the change-event publisher.
    expect(functions).toHaveLength(ROUTES.length + 1);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: LAMBDA_RUNTIME.name,
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        MemorySize: 512,
        Timeout: 10,
      });
    }
  });

  it('log to their own log group with retention, kept when the stack is deleted', () => {
    for (const [, fn] of serviceFunctions(synth)) {
      const groupId = (fn.Properties!.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resource(synth, groupId)).toMatchObject({ Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
    }
  });

  it('get the Powertools environment and the configuration their route needs, which passes cold-start validation', () => {
    for (const route of ROUTES) {
      const fn = functionOfRoute(external, routeKey(route));
      const env = envOf(fn);
      expect(env).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'serverless-mfa',
        POWERTOOLS_METRICS_NAMESPACE: 'ServerlessMfa',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        MFA_ISSUER: { 'Fn::GetAtt': [logicalId(external.stack.mfa.api.httpApi), 'ApiEndpoint'] },
        MFA_WEBAUTHN_RP_ID: 'app.example.com',
        MFA_WEBAUTHN_ORIGINS: 'https://app.example.com',
        MFA_TOTP_ISSUER_NAME: 'serverless-mfa',
        MFA_ASSERTION_TTL_SECONDS: '120',
      });
      expect(env.MFA_ADAPTERS).toBeUndefined();
      expect('MFA_TABLE_NAME' in env).toBe(route.access.table.length > 0);
      expect('MFA_TOTP_KEY_ID' in env).toBe(route.access.secretKey.length > 0);
      expect('MFA_SIGNING_KEY_ID' in env).toBe(route.access.signingKey.length > 0);
      if (route.access.signingKey.length > 0) expect(env.MFA_SIGNING_KEY_ID).toEqual(arnOf(logicalId(external.stack.mfa.dataAndKeys.signingKey)));

      // What Lambda would see once CloudFormation resolves the references.
      const resolved = Object.fromEntries(
        Object.entries(env).map(([name, value]) => [
          name,
          typeof value === 'string'
            ? value
            : name === 'MFA_ISSUER'
              ? 'https://abc123.execute-api.eu-west-1.amazonaws.com'
              : name === 'MFA_ADMIN_PRINCIPAL_ARNS'
                ? 'arn:aws:iam::111122223333:role/ServerlessMfa-SupportRole-ABC123'
                : `resolved-${name}`,
        ]),
      );
      expect('MFA_ADMIN_PRINCIPAL_ARNS' in env).toBe(route.auth === 'iam');
      expect(() => loadConfig(route.access, { ...resolved, AWS_LAMBDA_FUNCTION_NAME: route.id } as NodeJS.ProcessEnv, route.auth)).not.toThrow();
    }
  });
});

describe('least privilege', () => {
  const ids = () => ({
    table: logicalId(synth.stack.mfa.dataAndKeys.table),
    tableKey: logicalId(synth.stack.mfa.dataAndKeys.tableKey),
    totpKey: logicalId(synth.stack.mfa.dataAndKeys.totpSecretKey),
    signingKey: logicalId(synth.stack.mfa.dataAndKeys.signingKey),
  });

  it('grants each function only the table actions its route lists, on the table', () => {
    for (const route of ROUTES) {
      const grants = roleGrants(synth, roleOf(functionOfRoute(synth, routeKey(route))));
      const dynamo = grants.filter((grant) => grant.action.startsWith('dynamodb:'));
      expect(dynamo.map((grant) => grant.action).sort(), route.id).toEqual([...route.access.table].sort());
      for (const grant of dynamo) expect(grant.resource).toEqual(arnOf(ids().table));
      // The table key only through DynamoDB, only for functions that touch the table.
      const tableKey = grants.filter((grant) => JSON.stringify(grant.resource) === JSON.stringify(arnOf(ids().tableKey)));
      expect(tableKey.map((grant) => grant.action)).toEqual(route.access.table.length > 0 ? ['kms:Decrypt'] : []);
      for (const grant of tableKey) expect(grant.condition?.StringEquals).toHaveProperty('kms:ViaService');
    }
  });

  it('grants TOTP-key Encrypt/Decrypt only where used, and only under the service encryption context', () => {
    for (const route of ROUTES) {
      const grants = roleGrants(synth, roleOf(functionOfRoute(synth, routeKey(route)))).filter(
        (grant) => JSON.stringify(grant.resource) === JSON.stringify(arnOf(ids().totpKey)),
      );
      expect(grants.map((grant) => grant.action).sort(), route.id).toEqual([...route.access.secretKey].sort());
      for (const grant of grants) {
        expect(grant.condition).toEqual({
          StringEquals: { 'kms:EncryptionContext:service': 'serverless-mfa', 'kms:EncryptionContext:purpose': ['totp-secret', 'email-code'] },
          'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['userId'] },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['service', 'purpose', 'userId'] },
        });
      }
    }
  });

  it('grants Sign only to functions that issue assertions and GetPublicKey only to those that publish them', () => {
    for (const route of ROUTES) {
      const grants = roleGrants(synth, roleOf(functionOfRoute(synth, routeKey(route)))).filter(
        (grant) => JSON.stringify(grant.resource) === JSON.stringify(arnOf(ids().signingKey)),
      );
      expect(grants.map((grant) => grant.action).sort(), route.id).toEqual([...route.access.signingKey].sort());
      const sign = grants.find((grant) => grant.action === 'kms:Sign');
      if (sign) expect(sign.condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' } });
    }
    const signers = ROUTES.filter((route) => (route.access.signingKey as readonly string[]).includes('kms:Sign')).map((route) => route.id);
    expect(signers).toEqual(['verifyMfa']);
  });

  it('has no wildcard action anywhere, and a wildcard resource only for X-Ray', () => {
    for (const [, fn] of serviceFunctions(synth)) expect(resource(synth, roleOf({ properties: fn.Properties! })).Properties!.ManagedPolicyArns).toBeUndefined();
    for (const route of ROUTES) {
      const grants = roleGrants(synth, roleOf(functionOfRoute(synth, routeKey(route))));
      for (const grant of grants) {
        expect(grant.action).not.toContain('*');
        if (grant.resource === '*') expect(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']).toContain(grant.action);
      }
      const known = new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'kms:Decrypt',
        ...route.access.table,
        ...route.access.secretKey,
        ...route.access.signingKey,
      ]);
      expect(grants.map((grant) => grant.action).filter((action) => !known.has(action)), route.id).toEqual([]);
    }
  });
});

describe('data and keys', () => {
  it('stores MFA data in an on-demand table with PITR, deletion protection, customer-managed encryption and TTL, retained', () => {
    const table = resource(synth, logicalId(synth.stack.mfa.dataAndKeys.table));
    expect(table).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(logicalId(synth.stack.mfa.dataAndKeys.tableKey)) },
        TimeToLiveSpecification: { AttributeName: MFA_TABLE.timeToLiveAttribute, Enabled: true },
        KeySchema: [
          { AttributeName: MFA_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: MFA_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      },
    });
  });

  it('seals TOTP secrets with a rotating symmetric key whose policy refuses any use without the encryption context', () => {
    const key = resource(synth, logicalId(synth.stack.mfa.dataAndKeys.totpSecretKey));
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    expect(key.Properties!.KeySpec ?? 'SYMMETRIC_DEFAULT').toBe('SYMMETRIC_DEFAULT');
    const denies = (key.Properties!.KeyPolicy as { Statement: Statement[] }).Statement.filter((statement) => statement.Effect === 'Deny');
    const conditions = denies.map((statement) => statement.Condition);
    expect(conditions).toEqual(
      expect.arrayContaining([
        { StringNotEquals: { 'kms:EncryptionContext:service': 'serverless-mfa' } },
        { StringNotEquals: { 'kms:EncryptionContext:purpose': ['totp-secret', 'email-code'] } },
        { Null: { 'kms:EncryptionContext:userId': 'true' } },
      ]),
    );
    for (const deny of denies) {
      expect(deny).toMatchObject({ Principal: { AWS: '*' }, Resource: '*' });
      expect(deny.Action).toEqual(expect.arrayContaining(['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:GenerateDataKey']));
    }
  });

  it('signs assertions with an ECC_NIST_P256 SIGN_VERIFY key, retained', () => {
    expect(resource(synth, logicalId(synth.stack.mfa.dataAndKeys.signingKey))).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
    });
  });

  it('encrypts the table with its own rotating key, retained', () => {
    expect(resource(synth, logicalId(synth.stack.mfa.dataAndKeys.tableKey))).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });
});

describe('audit trail', () => {
  it("records all management events and the MFA table's item writes (data events, PartiQL included), with log file validation", () => {
    const trail = resource(synth, logicalId(synth.stack.mfa.auditTrail!.trail));
    expect(trail.Properties).toMatchObject({ EnableLogFileValidation: true, IsLogging: true, IsMultiRegionTrail: true, S3BucketName: { Ref: logicalId(synth.stack.mfa.auditTrail!.bucket) } });
    expect(trail.Properties!.EventSelectors).toBeUndefined();
    const selectors = trail.Properties!.AdvancedEventSelectors as { Name: string; FieldSelectors: unknown[] }[];
    expect(selectors).toHaveLength(2);
    const [management, table] = selectors;
    expect(management!.FieldSelectors).toEqual([{ Field: 'eventCategory', Equals: ['Management'] }]);
    expect(table).toEqual({
      Name: 'MFA table item writes',
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::DynamoDB::Table'] },
        { Field: 'resources.ARN', Equals: [arnOf(logicalId(synth.stack.mfa.dataAndKeys.table))] },
        { Field: 'eventName', Equals: TABLE_WRITE_EVENTS },
      ],
    });
    expect(TABLE_WRITE_EVENTS).toEqual(expect.arrayContaining(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']));
    // Reads (GetItem, the bulk of the traffic) are not recorded: they cost and change nothing.
    expect(TABLE_WRITE_EVENTS).not.toContain('GetItem');
  });

  it('lets CloudTrail write to its bucket for this trail of this account only (aws:SourceArn, aws:SourceAccount)', () => {
    const bucketId = logicalId(synth.stack.mfa.auditTrail!.bucket);
    const [, policy] = resources(synth, 'AWS::S3::BucketPolicy').find(([, candidate]) => JSON.stringify(candidate.Properties!.Bucket) === JSON.stringify({ Ref: bucketId }))!;
    const statements = (policy.Properties!.PolicyDocument as { Statement: (Statement & { Principal: unknown })[] }).Statement.filter((statement) => statement.Effect === 'Allow');
    const trailName = resource(synth, logicalId(synth.stack.mfa.auditTrail!.trail)).Properties!.TrailName as string;
    const trailArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudtrail:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:trail/${trailName}`]] };
    expect(statements.map((statement) => statement.Action).sort()).toEqual(['s3:GetBucketAcl', 's3:PutObject']);
    for (const statement of statements) {
      expect(statement.Principal).toEqual({ Service: 'cloudtrail.amazonaws.com' });
      expect(statement.Condition!.StringEquals).toMatchObject({ 'aws:SourceArn': trailArn, 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    }
    expect(statements.find((statement) => statement.Action === 's3:PutObject')!.Condition!.StringEquals).toMatchObject({ 's3:x-amz-acl': 'bucket-owner-full-control' });
  });

  it('writes to an encrypted, versioned, public-access-blocked, SSL-only bucket with a lifecycle rule, retained', () => {
    const bucketId = logicalId(synth.stack.mfa.auditTrail!.bucket);
    expect(resource(synth, bucketId)).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: {
          Rules: [expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 400, Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] })],
        },
      },
    });
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'cloudtrail.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('is left out with createTrail=false', () => {
    external.template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    external.template.resourceCountIs('AWS::S3::Bucket', 0);
  });
});

describe('alarms', () => {
  const topicRef = () => ({ Ref: logicalId(synth.stack.mfa.alarms.topic) });
  const alarms = () => resources(synth, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties!);

  it('watch every function for errors and throttles', () => {
    for (const [id, fn] of serviceFunctions(synth)) {
      for (const metric of ['Errors', 'Throttles']) {
        const alarm = alarms().find(
          (candidate) =>
            candidate.Namespace === 'AWS/Lambda' &&
            candidate.MetricName === metric &&
            JSON.stringify(candidate.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id } }]),
        );
        expect(alarm, `${metric} alarm for ${String(fn.Properties!.Description)}`).toMatchObject({
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          AlarmActions: [topicRef()],
        });
      }
    }
  });

  it('watch API 5xx responses', () => {
    expect(alarms().find((alarm) => alarm.Namespace === 'AWS/ApiGateway' && alarm.MetricName === '5xx')).toMatchObject({
      Dimensions: [
        { Name: 'ApiId', Value: { Ref: logicalId(synth.stack.mfa.api.httpApi) } },
        { Name: 'Stage', Value: '$default' },
      ],
      Statistic: 'Sum',
      AlarmActions: [topicRef()],
    });
  });

  it('watch spikes in lockouts and failed code checks, the Powertools metrics of the audit log', () => {
    for (const [metricName, threshold] of [
      [AUDIT_METRICS.lockouts, 10],
      [AUDIT_METRICS.failedCodeChecks, 100],
    ] as const) {
      expect(alarms().find((alarm) => alarm.MetricName === metricName)).toMatchObject({
        Namespace: 'ServerlessMfa',
        Dimensions: [{ Name: 'service', Value: 'serverless-mfa' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: threshold,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef()],
      });
    }
  });

  it('page on the first suspected cloned security key (the audit log\'s counter-regression metric)', () => {
    expect(alarms().find((alarm) => alarm.MetricName === AUDIT_METRICS.suspectedKeyClones)).toMatchObject({
      Namespace: 'ServerlessMfa',
      Dimensions: [{ Name: 'service', Value: 'serverless-mfa' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
  });

  it('notify an encrypted, SSL-only SNS topic, with an email subscription when configured', () => {
    synth.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    synth.template.resourceCountIs('AWS::SNS::Subscription', 0);
    external.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });
});

describe('outputs', () => {
  it('are all documented in docs/deploying.md', () => {
    const deploying = readFileSync(new URL('../../docs/deploying.md', import.meta.url), 'utf8');
    for (const s of [synth, hostedSignIn, web]) {
      for (const name of Object.keys(s.template.toJSON().Outputs as object)) expect(deploying, name).toContain(`\`${name}\``);
    }
  });

  it('name the API URL, issuers, table, keys and trail bucket', () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'MfaIssuer', 'FirstFactorIssuerUrl', 'TableName', 'TableKeyArn', 'TotpSecretKeyArn', 'SigningKeyArn', 'TrailBucketName', 'AlarmTopicArn']),
    );
    expect(outputs.MfaIssuer!.Value).toEqual({ 'Fn::GetAtt': [logicalId(synth.stack.mfa.api.httpApi), 'ApiEndpoint'] });
    expect(outputs.TrailBucketName!.Value).toEqual({ Ref: logicalId(synth.stack.mfa.auditTrail!.bucket) });
    expect(outputs.SigningKeyArn!.Value).toEqual(arnOf(logicalId(synth.stack.mfa.dataAndKeys.signingKey)));
  });
});

describe('cdk-nag (AwsSolutions and Serverless packs, run on every synth)', () => {
  it('reports no unacknowledged finding, error or warning, for the default deployment', () => {
    expect(synth.findings).toEqual([]);
  });

  it('reports no unacknowledged finding for an external IdP with CORS, an alarm email and no trail', () => {
    expect(external.findings).toEqual([]);
  });

  it('reports no unacknowledged finding with the web client hosted', () => {
    expect(web.findings).toEqual([]);
  });

  it('acknowledges only on the resources concerned, each with a concrete reason', () => {
    const acknowledgements = [synth, web].flatMap((s) => s.app.node.findAll())
      .flatMap((construct) =>
        construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ at: construct.node.path, id, reason }))),
      );
    expect(acknowledgements.length).toBeGreaterThan(0);
    const deploying = readFileSync(new URL('../../docs/deploying.md', import.meta.url), 'utf8');
    for (const { at, id, reason } of acknowledgements) {
      expect(at.split('/').length, `${id} acknowledged at ${at}`).toBeGreaterThan(1);
      expect(reason.length, `${id} at ${at}`).toBeGreaterThanOrEqual(60);
      expect(deploying, `docs/deploying.md lists ${id}`).toContain(id.replace(/^\w+::/, '').replace(/\[.*$/, ''));
    }
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    const { app, stack } = createApp({ outdir: synth.outdir, context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    new Bucket(stack, 'UnloggedBucket', { enforceSSL: true });
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
