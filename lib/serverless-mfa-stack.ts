import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ROUTES } from '../functions/http/routes.js';
import { Alarms } from './constructs/alarms.js';
import { MfaApi } from './constructs/api.js';
import { AuditTrail } from './constructs/audit-trail.js';
import { DataAndKeys } from './constructs/data-and-keys.js';
import { DefaultIdentityProvider } from './constructs/default-identity-provider.js';
import { RouteFunctions } from './constructs/route-functions.js';
import { resolveSettings, SettingsError, type ServerlessMfaSettings } from './settings.js';

export interface ServerlessMfaStackProps extends StackProps {
  /** Overrides the CDK context parameters of the same names. */
  settings?: Partial<ServerlessMfaSettings>;
}

/**
 * The whole service in one environment-agnostic stack (no lookups: `cdk synth` needs no AWS
 * account). It reads top to bottom like the architecture: who signs users in, what is stored
 * and with which keys, the functions, the API in front of them, the audit trail, the alarms.
 */
export class ServerlessMfaStack extends Stack {
  readonly settings: ServerlessMfaSettings;
  readonly identityProvider: DefaultIdentityProvider | undefined;
  readonly dataAndKeys: DataAndKeys;
  readonly api: MfaApi;
  readonly functions: RouteFunctions;
  readonly auditTrail: AuditTrail | undefined;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: ServerlessMfaStackProps = {}) {
    super(scope, id, { description: 'serverless-mfa: TOTP second factor for web apps', ...props });
    const settings = (this.settings = resolveSettings(this.node, props.settings));
    if (settings.webHosting) throw new SettingsError('webHosting=true: the web-hosting construct is not built yet; deploy without it.');
    const logRetention = settings.logRetentionDays as RetentionDays;

    // First factor: the operator's OIDC issuer, or a user pool of our own.
    this.identityProvider = settings.firstFactorIssuerUrl === undefined ? new DefaultIdentityProvider(this, 'FirstFactor', { callbackUrls: settings.userPoolCallbackUrls }) : undefined;
    const firstFactor = this.identityProvider
      ? { issuerUrl: this.identityProvider.issuerUrl, audience: [this.identityProvider.audience] }
      : { issuerUrl: settings.firstFactorIssuerUrl!, audience: settings.firstFactorAudience };

    this.dataAndKeys = new DataAndKeys(this, 'DataAndKeys');

    this.api = new MfaApi(this, 'Api', {
      firstFactor,
      corsAllowedOrigins: settings.corsAllowedOrigins,
      throttle: { rateLimit: settings.throttleRateLimit, burstLimit: settings.throttleBurstLimit },
      logRetention,
    });

    this.functions = new RouteFunctions(this, 'Functions', {
      routes: ROUTES,
      dataAndKeys: this.dataAndKeys,
      environment: {
        MFA_ISSUER: this.api.url,
        MFA_ASSERTION_AUDIENCE: settings.assertionAudience,
        MFA_TOTP_ISSUER_NAME: settings.totpIssuerName,
        ...(settings.assertionTtlSeconds !== undefined ? { MFA_ASSERTION_TTL_SECONDS: String(settings.assertionTtlSeconds) } : {}),
      },
      logRetention,
      logLevel: settings.logLevel,
    });
    for (const { route, fn } of this.functions.byRoute.values()) this.api.addRoute(route, fn.function);

    this.auditTrail = settings.createTrail
      ? new AuditTrail(this, 'AuditTrail', { table: this.dataAndKeys.table, logExpirationDays: settings.trailLogExpirationDays })
      : undefined;

    this.alarms = new Alarms(this, 'Alarms', {
      functions: this.functions.all,
      stage: this.api.stage,
      lockoutThreshold: settings.lockoutAlarmThreshold,
      failedCodeChecksThreshold: settings.failedCodeChecksAlarmThreshold,
      email: settings.alarmEmail,
    });

    // Web client hosting (S3 + CloudFront) goes here, as lib/constructs/web-hosting.ts behind
    // `settings.webHosting` (checked at the top until it exists).

    this.outputs(firstFactor);
  }

  private outputs(firstFactor: { issuerUrl: string; audience: string[] }): void {
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.api.url, 'Base URL of the MFA API.');
    output('MfaIssuer', this.api.url, 'Issuer (iss) of MFA assertions; its /.well-known/openid-configuration points at the JWKS.');
    output('AssertionAudience', this.settings.assertionAudience, 'Audience (aud) of MFA assertions: what your app must check.');
    output('FirstFactorIssuerUrl', firstFactor.issuerUrl, 'Issuer whose tokens the /v1 routes accept.');
    output('FirstFactorAudience', firstFactor.audience.join(','), 'Accepted aud / client_id values of first-factor tokens.');
    if (this.identityProvider) {
      output('UserPoolId', this.identityProvider.userPool.userPoolId, 'Default first-factor user pool.');
      output('UserPoolClientId', this.identityProvider.client.userPoolClientId, 'App client of the default user pool.');
      if (this.identityProvider.domain) {
        output('UserPoolSignInUrl', this.identityProvider.domain.baseUrl(), 'Hosted sign-in of the default user pool (authorization code + PKCE).');
      }
    }
    output('TableName', this.dataAndKeys.table.tableName, 'MFA table.');
    output('TableKeyArn', this.dataAndKeys.tableKey.keyArn, 'KMS key encrypting the table at rest.');
    output('TotpSecretKeyArn', this.dataAndKeys.totpSecretKey.keyArn, 'KMS key sealing TOTP secrets.');
    output('SigningKeyArn', this.dataAndKeys.signingKey.keyArn, 'KMS key signing MFA assertions.');
    output('TrailBucketName', this.auditTrail?.bucket.bucketName ?? 'none (createTrail=false: organisation trail)', 'S3 bucket of the CloudTrail trail.');
    output('AlarmTopicArn', this.alarms.topic.topicArn, 'SNS topic the alarms notify; subscribe your on-call here.');
  }
}
