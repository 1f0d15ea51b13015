import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DefaultIdentityProvider } from './constructs/default-identity-provider.js';
import { ServerlessMfa } from './serverless-mfa.js';
import { resolveSettings, type ServerlessMfaSettings } from './settings.js';

export interface ServerlessMfaStackProps extends StackProps {
  /** Overrides the CDK context parameters of the same names. */
  settings?: Partial<ServerlessMfaSettings>;
}

/**
 * The stand-alone deployment: the ServerlessMfa construct (lib/serverless-mfa.ts) configured
 * from CDK context, with a Cognito user pool of its own when no issuer is named, and the
 * outputs operators need. Environment-agnostic (no lookups: `cdk synth` needs no AWS account).
 */
export class ServerlessMfaStack extends Stack {
  readonly settings: ServerlessMfaSettings;
  readonly identityProvider: DefaultIdentityProvider | undefined;
  readonly mfa: ServerlessMfa;

  constructor(scope: Construct, id: string, props: ServerlessMfaStackProps = {}) {
    super(scope, id, { description: 'serverless-mfa: the second factor for web apps (authenticator apps and security keys or passkeys, with recovery codes)', ...props });
    const settings = (this.settings = resolveSettings(this.node, props.settings));
    const { firstFactorIssuerUrl, firstFactorAudience, userPoolCallbackUrls, ...options } = settings;

    // First factor: the operator's OIDC issuer, or a user pool of our own.
    this.identityProvider =
      firstFactorIssuerUrl === undefined
        ? new DefaultIdentityProvider(this, 'FirstFactor', { callbackUrls: userPoolCallbackUrls, hostedSignIn: settings.webHosting })
        : undefined;
    const firstFactor = this.identityProvider
      ? { userPool: this.identityProvider.userPool, clients: [this.identityProvider.client], ...(this.identityProvider.domain ? { signInDomain: this.identityProvider.domain } : {}) }
      : { issuerUrl: firstFactorIssuerUrl!, audience: firstFactorAudience };

    this.mfa = new ServerlessMfa(this, 'Mfa', { firstFactor, ...options });
    if (this.mfa.webHosting) this.identityProvider?.addCallbackUrl(`${this.mfa.webHosting.url}/`);

    this.outputs();
  }

  private outputs(): void {
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    const { api, dataAndKeys, auditTrail, alarms, changeEvents, webHosting, adminInvokePolicy, adminAccess, firstFactor } = this.mfa;
    output('ApiUrl', api.url, 'Base URL of the MFA API.');
    output('MfaIssuer', api.url, 'Issuer (iss) of MFA assertions; its /.well-known/openid-configuration points at the JWKS.');
    output('FirstFactorIssuerUrl', firstFactor.issuerUrl, 'Issuer whose tokens the /v1 routes accept.');
    output('FirstFactorAudience', firstFactor.audience.join(','), 'Accepted aud / client_id values of first-factor tokens.');
    if (this.identityProvider) {
      output('UserPoolId', this.identityProvider.userPool.userPoolId, 'Default first-factor user pool.');
      output('UserPoolClientId', this.identityProvider.client.userPoolClientId, 'App client of the default user pool.');
      if (this.identityProvider.domain) {
        output('UserPoolSignInUrl', this.identityProvider.domain.baseUrl(), 'Hosted sign-in of the default user pool (authorization code + PKCE).');
      }
    }
    output('TableName', dataAndKeys.table.tableName, 'MFA table.');
    output('TableKeyArn', dataAndKeys.tableKey.keyArn, 'KMS key encrypting the table at rest.');
    output('TotpSecretKeyArn', dataAndKeys.totpSecretKey.keyArn, 'KMS key sealing TOTP secrets.');
    output('SigningKeyArn', dataAndKeys.signingKey.keyArn, 'KMS key signing MFA assertions.');
    output('TrailBucketName', auditTrail?.bucket.bucketName ?? 'none (createTrail=false: organisation trail)', 'S3 bucket of the CloudTrail trail.');
    output('AlarmTopicArn', alarms.topic.topicArn, 'SNS topic the alarms notify; subscribe your on-call here.');
    output('EventBusName', changeEvents.bus.eventBusName, 'EventBridge bus carrying MFA change events.');
    output('EventsDeadLetterQueueUrl', changeEvents.deadLetterQueue.queueUrl, 'SQS queue holding change events that could not be published.');
    if (adminInvokePolicy) output('AdminInvokePolicyArn', adminInvokePolicy.managedPolicyArn, 'Managed policy allowing the operator (/admin) routes; attached to the support role, attach it to each principal of adminPrincipalArns.');
    if (adminAccess?.supportRole) output('SupportRoleArn', adminAccess.supportRole.roleArn, 'Role support staff assume to call the operator (/admin) routes (npm run admin).');
    if (webHosting) {
      output('WebUrl', webHosting.url, 'The hosted reference web client.');
      output('WebBucketName', webHosting.bucket.bucketName, 'Bucket holding the web client (read by CloudFront only).');
      output('WebDistributionId', webHosting.distribution.distributionId, 'CloudFront distribution of the web client.');
    }
  }
}
