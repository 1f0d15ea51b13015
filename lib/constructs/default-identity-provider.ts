import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccountRecovery, FeaturePlan, UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/**
 * The first-factor identity provider used when the operator names none: a Cognito user pool
 * (email + password, administrator-created users) and one public app client. Its tokens are
 * what the API's JWT authorizer accepts; the second factor is this service, not Cognito's MFA.
 */
export class DefaultIdentityProvider extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  /** `iss` of the pool's tokens. */
  readonly issuerUrl: string;
  /** `aud` (ID tokens) / `client_id` (access tokens) of the pool's tokens. */
  readonly audience: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.userPool = new UserPool(this, 'UserPool', {
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      selfSignUpEnabled: false,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Lite: the cheapest plan covers password sign-in, which is all the first factor needs.
      featurePlan: FeaturePlan.LITE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.client = this.userPool.addClient('WebClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    const stack = Stack.of(this);
    this.issuerUrl = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${this.userPool.userPoolId}`;
    this.audience = this.client.userPoolClientId;

    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason: 'This pool is the first factor only: the second factor (TOTP, recovery codes, lockout) is the serverless-mfa service this stack deploys.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Plus-tier threat protection mainly guards password sign-in and costs per user; brute force on the second factor is stopped by the service lockout. Operators who need it bring their own pool (firstFactorIssuerUrl).',
      },
    );
  }
}
