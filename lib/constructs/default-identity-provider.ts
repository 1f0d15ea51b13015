import { Duration, Fn, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccountRecovery, FeaturePlan, OAuthScope, UserPool, UserPoolClient, UserPoolClientIdentityProvider, type UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface DefaultIdentityProviderProps {
  /** Apps signing in through the hosted sign-in page (authorization code + PKCE); none: SRP only. */
  callbackUrls: string[];
  /** Create the hosted sign-in even without callback URLs yet: one is added later (`addCallbackUrl`), e.g. the hosted web client's. */
  hostedSignIn?: boolean;
}

/**
 * The first-factor identity provider used when the operator names none: a Cognito user pool
 * (email + password, administrator-created users) and one public app client, with a hosted
 * sign-in page when callback URLs are given. Its tokens are what the API's JWT authorizer
 * accepts; the second factor is this service, not Cognito's MFA.
 */
export class DefaultIdentityProvider extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  /** `iss` of the pool's tokens. */
  readonly issuerUrl: string;
  /** `aud` (ID tokens) / `client_id` (access tokens) of the pool's tokens. */
  readonly audience: string;
  /** The hosted sign-in domain, when callback URLs were given. */
  readonly domain: UserPoolDomain | undefined;
  private readonly callbackUrls: string[];

  constructor(scope: Construct, id: string, props: DefaultIdentityProviderProps) {
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

    this.callbackUrls = [...props.callbackUrls];
    const hostedSignIn = props.callbackUrls.length > 0 || props.hostedSignIn === true;
    const callbackUrls = Lazy.list({ produce: () => this.callbackUrls });
    // Globally unique per stack without a lookup: the first block of the stack's GUID.
    const stackGuidPrefix = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(this).stackId))));
    this.domain = hostedSignIn
      ? this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: Fn.join('-', ['serverless-mfa', stackGuidPrefix]) } })
      : undefined;

    this.client = this.userPool.addClient('WebClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      ...(hostedSignIn
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
              callbackUrls,
              logoutUrls: callbackUrls,
            },
            supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
          }
        : { disableOAuth: true }),
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

  /** Adds a redirect (and sign-out) URL of an app using the hosted sign-in; needs `hostedSignIn` or callback URLs at construction. */
  addCallbackUrl(url: string): void {
    if (!this.domain) throw new Error('addCallbackUrl: this user pool has no hosted sign-in (construct it with hostedSignIn: true).');
    this.callbackUrls.push(url);
  }
}
