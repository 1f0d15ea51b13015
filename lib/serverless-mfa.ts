import { Stack } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient, UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import type { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ROUTES, type RouteDefinition } from '../functions/http/routes.js';
import { serviceEnvironment } from '../functions/settings-schema.js';
import { AdminAccess } from './constructs/admin-access.js';
import { Alarms } from './constructs/alarms.js';
import { MfaApi } from './constructs/api.js';
import { AuditTrail } from './constructs/audit-trail.js';
import { ChangeEvents } from './constructs/change-events.js';
import { DataAndKeys } from './constructs/data-and-keys.js';
import { KeyUseWatch } from './constructs/key-use-watch.js';
import { MailSending } from './constructs/mail-sending.js';
import { SecurityNotifications } from './constructs/security-notifications.js';
import { RouteFunctions } from './constructs/route-functions.js';
import { TableWriteWatch } from './constructs/table-write-watch.js';
import { WebHosting } from './constructs/web-hosting.js';
import { MfaOptionsSchema, parseSettings, SettingsError, type MfaOptions } from './settings.js';

/** Any OIDC issuer: its tokens' `iss`, verbatim, and the `aud` (or Cognito `client_id`) values to accept. */
export interface IssuerFirstFactor {
  issuerUrl: string;
  audience: string[];
  /**
   * Web hosting only: origins of the provider's endpoints the browser calls that are not on the
   * issuer's origin (its token endpoint, if elsewhere). The web client signs in as `audience[0]`.
   */
  signInOrigins?: string[];
}

/** An existing Cognito user pool: tokens of these app clients are accepted (ID tokens by `aud`, access tokens by `client_id`). */
export interface UserPoolFirstFactor {
  userPool: IUserPool;
  clients: IUserPoolClient[];
  /**
   * Web hosting only: the pool's hosted sign-in domain, where the web client signs in as
   * `clients[0]` (authorization code + PKCE). Add `<WebUrl>/` to that client's callback URLs.
   */
  signInDomain?: UserPoolDomain;
}

export type FirstFactor = IssuerFirstFactor | UserPoolFirstFactor;

/** The construct's props: the first factor and an optional alarm topic, then the service settings (lib/settings.ts, the same schema as the context parameters). */
export interface ServerlessMfaProps extends Partial<MfaOptions> {
  firstFactor: FirstFactor;
  /** Where alarms and key-use alerts go; created (KMS-encrypted) when omitted. Must let CloudWatch and EventBridge publish. */
  alarmTopic?: ITopic;
  /** @internal The routes to deploy: the route table (functions/http/routes.ts) unless a test passes its own. */
  routes?: readonly RouteDefinition[];
}

/**
 * serverless-mfa as one construct to embed in any CDK stack (the stand-alone stack in
 * lib/serverless-mfa-stack.ts is a thin wrapper around it). It reads top to bottom like the
 * architecture: what is stored and with which keys, the functions of the route table, the API
 * in front of them, the web client, change events, the audit trail and the alarms.
 * It does no lookups: the stack it is in stays environment-agnostic.
 */
export class ServerlessMfa extends Construct {
  readonly options: MfaOptions;
  /** What the API's JWT authorizer accepts. */
  readonly firstFactor: { issuerUrl: string; audience: string[] };
  readonly dataAndKeys: DataAndKeys;
  readonly api: MfaApi;
  readonly functions: RouteFunctions;
  readonly webHosting: WebHosting | undefined;
  readonly changeEvents: ChangeEvents;
  /** SES sending, when `emailFrom` is set. */
  readonly mail: MailSending | undefined;
  /** Security notices to users, when `securityNotifications` (on with `emailFrom` unless turned off). */
  readonly securityNotifications: SecurityNotifications | undefined;
  readonly auditTrail: AuditTrail | undefined;
  readonly alarms: Alarms;
  readonly keyUseWatch: KeyUseWatch;
  readonly tableWriteWatch: TableWriteWatch;
  /** `execute-api:Invoke` on exactly the IAM-authorised (`/admin/*`) routes; undefined when the route table has none. */
  readonly adminInvokePolicy: ManagedPolicy | undefined;
  /** The support role and the principals the operator routes admit; undefined when the route table has no such route. */
  readonly adminAccess: AdminAccess | undefined;

  constructor(scope: Construct, id: string, props: ServerlessMfaProps) {
    super(scope, id);
    const { firstFactor, alarmTopic, routes = ROUTES, ...optionProps } = props;
    const options = (this.options = parseSettings(MfaOptionsSchema, withoutUndefined(optionProps)));
    const logRetention = options.logRetentionDays as RetentionDays;
    this.firstFactor = acceptedTokens(firstFactor);

    this.dataAndKeys = new DataAndKeys(this, 'DataAndKeys');
    this.changeEvents = new ChangeEvents(this, 'ChangeEvents', { table: this.dataAndKeys.table, logRetention, logLevel: options.logLevel });

    this.api = new MfaApi(this, 'Api', {
      firstFactor: this.firstFactor,
      corsAllowedOrigins: options.corsAllowedOrigins,
      throttle: { rateLimit: options.throttleRateLimit, burstLimit: options.throttleBurstLimit },
      logRetention,
    });

    this.webHosting = options.webHosting
      ? new WebHosting(this, 'Web', {
          httpApi: this.api.httpApi,
          apiPathPatterns: apiPathPatterns(routes),
          identityProviderOrigins: identityProviderOrigins(firstFactor, this.firstFactor.issuerUrl),
        })
      : undefined;
    const webAuthnRpId = options.webAuthnRpId ?? this.webHosting?.domainName;
    const webAuthnOrigins = options.webAuthnOrigins.length > 0 ? options.webAuthnOrigins : webAuthnRpId ? [`https://${webAuthnRpId}`] : undefined;
    // Every function that reads the table needs the relying party (functions/config.ts): fail
    // the synth here rather than every cold start there.
    if (webAuthnRpId === undefined && routes.some((route) => route.access.table.length > 0)) {
      throw new SettingsError(
        'Invalid deployment settings:\n- webAuthnRpId is required: the domain of the pages that register and use security keys (e.g. example.com), or webHosting=true to use the hosted web client\'s domain.',
      );
    }

    this.functions = new RouteFunctions(this, 'Functions', {
      routes,
      dataAndKeys: this.dataAndKeys,
      environment: {
        MFA_ISSUER: this.api.url,
        // What the JWT authorizer accepts: the functions name the assertion's audience from it.
        MFA_FIRST_FACTOR_AUDIENCES: this.firstFactor.audience.join(','),
        ...serviceEnvironment({
          ...(Object.keys(options.assertionAudienceMap).length > 0 ? { assertionAudienceMap: options.assertionAudienceMap } : {}),
          totpIssuerName: options.totpIssuerName,
          assertionTtlSeconds: options.assertionTtlSeconds,
          rememberDeviceDays: options.rememberDeviceDays,
          webAuthnRpId,
          webAuthnOrigins,
          emailCodes: options.emailCodes,
        }),
      },
      logRetention,
      logLevel: options.logLevel,
    });
    this.mail = options.emailFrom
      ? new MailSending(this, 'Mail', { from: options.emailFrom, identity: options.emailIdentity, configurationSetName: options.emailConfigurationSet })
      : undefined;
    // Only the functions that send codes may send mail, and only while the deployment offers them.
    if (this.mail && options.emailCodes) {
      for (const { route, fn } of this.functions.byRoute.values()) if (route.access.mail.length > 0) this.mail.grantSend(fn);
    }
    this.securityNotifications =
      this.mail && options.securityNotifications !== false
        ? new SecurityNotifications(this, 'SecurityNotifications', {
            table: this.dataAndKeys.table,
            dataAndKeys: this.dataAndKeys,
            mail: this.mail,
            deadLetterQueue: this.changeEvents.deadLetterQueue,
            serviceName: options.totpIssuerName,
            supportUrl: options.supportUrl,
            logRetention,
            logLevel: options.logLevel,
          })
        : undefined;
    for (const { route, fn } of this.functions.byRoute.values()) this.api.addRoute(route, fn.function);
    this.adminInvokePolicy = this.api.adminInvokePolicy(this, 'AdminInvokePolicy');
    this.adminAccess = this.adminInvokePolicy
      ? new AdminAccess(this, 'AdminAccess', { invokePolicy: this.adminInvokePolicy, supportRoleTrust: options.supportRoleTrust, adminPrincipalArns: options.adminPrincipalArns })
      : undefined;
    for (const { route, fn } of this.functions.byRoute.values()) if (route.auth === 'iam') this.adminAccess?.configure(fn);

    this.webHosting?.deploy({
      apiBaseUrl: this.webHosting.url,
      // The client offers "Email codes" only where the functions can send them.
      emailCodes: options.emailCodes && this.mail !== undefined,
      rememberDeviceDays: options.rememberDeviceDays,
      identityProvider: {
        type: 'oidc',
        issuer: this.firstFactor.issuerUrl,
        clientId: this.firstFactor.audience[0]!,
        scope: 'openid email',
        token: 'id_token',
        redirectUri: `${this.webHosting.url}/`,
      },
    });

    this.alarms = new Alarms(this, 'Alarms', {
      functions: this.functions.all,
      stage: this.api.stage,
      lockoutThreshold: options.lockoutAlarmThreshold,
      failedCodeChecksThreshold: options.failedCodeChecksAlarmThreshold,
      email: options.alarmEmail,
      ...(alarmTopic ? { topic: alarmTopic } : {}),
    });

    this.changeEvents.addAlarms(this.alarms);
    this.securityNotifications?.addAlarms(this.alarms);

    this.auditTrail = options.createTrail
      ? new AuditTrail(this, 'AuditTrail', { table: this.dataAndKeys.table, logExpirationDays: options.trailLogExpirationDays })
      : undefined;

    this.keyUseWatch = new KeyUseWatch(this, 'KeyUseWatch', {
      alarms: this.alarms,
      keys: [
        { name: 'TotpSecretKey', key: this.dataAndKeys.totpSecretKey, users: this.dataAndKeys.keyUsers.totpSecretKey },
        { name: 'SigningKey', key: this.dataAndKeys.signingKey, users: this.dataAndKeys.keyUsers.signingKey },
      ],
    });
    this.tableWriteWatch = new TableWriteWatch(this, 'TableWriteWatch', {
      table: this.dataAndKeys.table,
      writers: this.dataAndKeys.tableWriters,
      alarms: this.alarms,
      deadLetterQueue: this.keyUseWatch.deadLetterQueue,
    });
  }
}

function acceptedTokens(firstFactor: FirstFactor): { issuerUrl: string; audience: string[] } {
  if ('issuerUrl' in firstFactor) {
    if (firstFactor.audience.length === 0) throw new Error('ServerlessMfa: firstFactor.audience must name at least one audience.');
    return { issuerUrl: firstFactor.issuerUrl, audience: [...firstFactor.audience] };
  }
  if (firstFactor.clients.length === 0) throw new Error('ServerlessMfa: firstFactor.clients must name at least one app client.');
  const pool = firstFactor.userPool;
  return {
    issuerUrl: `https://cognito-idp.${pool.env.region}.${Stack.of(pool).urlSuffix}/${pool.userPoolId}`,
    audience: firstFactor.clients.map((client) => client.userPoolClientId),
  };
}

/** Where the browser goes besides the page's own origin: the issuer (discovery) and the sign-in endpoints. */
function identityProviderOrigins(firstFactor: FirstFactor, issuerUrl: string): string[] {
  const issuerOrigin = /^https:\/\/[^/]+/.exec(issuerUrl)?.[0] ?? issuerUrl;
  if ('issuerUrl' in firstFactor) return [issuerOrigin, ...(firstFactor.signInOrigins ?? [])];
  if (!firstFactor.signInDomain) throw new Error('ServerlessMfa: webHosting with a user pool needs firstFactor.signInDomain (the hosted sign-in the web client uses).');
  return [issuerOrigin, firstFactor.signInDomain.baseUrl()];
}

/** The API paths the web client calls, as CloudFront path patterns: `/v1/*` and `/.well-known/*`, never `/admin/*`. */
function apiPathPatterns(routes: readonly RouteDefinition[]): string[] {
  const prefixes = routes.filter((route) => route.auth !== 'iam').map((route) => `/${route.path.split('/')[1]}/*`);
  return [...new Set(prefixes)].sort();
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
