import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../functions/http/routes.js';
import { acknowledgeWildcardPermissions } from '../nag.js';

export interface MfaApiProps {
  /** Who issues the first-factor tokens the `/v1/*` routes require. */
  firstFactor: { issuerUrl: string; audience: string[] };
  corsAllowedOrigins: string[];
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
}

/**
 * One JSON object per request. `userId` is the verified first-factor `sub` (empty on public
 * routes and on requests the authorizer refused), so access logs and audit lines join on it.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integration.latency',
    integrationStatus: '$context.integration.status',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    userId: '$context.authorizer.claims.sub',
  }),
);

/**
 * The HTTP API: one `$default` stage with throttling and JSON access logs, a JWT authorizer
 * for the first-factor issuer on every `first-factor` route, and IAM authorization (SigV4) on
 * every `iam` route (the operators' `/admin/*` routes). Only routes from the route table are
 * added; there is no `/dev/*` route in the cloud.
 */
export class MfaApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;
  readonly firstFactorAuthorizer: HttpJwtAuthorizer;
  readonly iamAuthorizer = new HttpIamAuthorizer();
  /** @internal The `iam` routes added so far: what `adminInvokePolicy` allows. */
  readonly iamRoutes: RouteDefinition[] = [];
  /** The API's base URL without a trailing slash: this service's issuer (MFA_ISSUER). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: MfaApiProps) {
    super(scope, id);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'serverless-mfa: second factor by authenticator app or security key',
      createDefaultStage: false,
      ...(props.corsAllowedOrigins.length > 0
        ? {
            corsPreflight: {
              allowOrigins: props.corsAllowedOrigins,
              allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST],
              allowHeaders: ['authorization', 'content-type'],
              // Lockout answers (429) say when to retry; browsers hide the header unless exposed.
              exposeHeaders: ['retry-after'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: { destination: new LogGroupLogDestination(this.accessLogGroup), format: ACCESS_LOG_FORMAT },
    });
    Validations.of(this.stage).acknowledge({
      id: 'Serverless-APIGWXrayEnabled',
      reason: 'HTTP APIs do not support X-Ray tracing; every function behind the API traces actively instead.',
    });

    this.firstFactorAuthorizer = new HttpJwtAuthorizer('FirstFactor', props.firstFactor.issuerUrl, {
      authorizerName: 'first-factor',
      jwtAudience: props.firstFactor.audience,
    });
    this.url = this.httpApi.apiEndpoint;
  }

  /** @internal Routes a table entry to its function, behind the first-factor authorizer unless the route is public. */
  addRoute(route: RouteDefinition, fn: IFunction): HttpRoute {
    const [httpRoute] = this.httpApi.addRoutes({
      path: route.path,
      methods: [HttpMethod[route.method]],
      integration: new HttpLambdaIntegration(`${route.id}Integration`, fn),
      ...(route.auth === 'first-factor' ? { authorizer: this.firstFactorAuthorizer } : route.auth === 'iam' ? { authorizer: this.iamAuthorizer } : {}),
    });
    if (route.auth === 'iam') this.iamRoutes.push(route);
    if (route.auth === 'public') {
      Validations.of(httpRoute!).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${route.method} ${route.path} is public by design: relying parties fetch it without credentials to verify MFA assertions (OpenID discovery and JWKS).`,
      });
    }
    return httpRoute!;
  }

  /**
   * A managed policy allowing `execute-api:Invoke` on exactly the `iam` routes (any path
   * parameter value), for the operators' support role. Undefined when the table has none.
   */
  adminInvokePolicy(scope: Construct, id: string): ManagedPolicy | undefined {
    if (this.iamRoutes.length === 0) return undefined;
    const policy = new ManagedPolicy(scope, id, {
      description: 'serverless-mfa: call the operator (IAM-authorised) routes of the MFA API',
      statements: [
        new PolicyStatement({
          actions: ['execute-api:Invoke'],
          // One stage ($default); a path parameter matches any value, i.e. any user.
          resources: this.iamRoutes.map((route) => this.httpApi.arnForExecuteApi(route.method, route.path.replace(/\{[^}]+\}/g, '*'), '*')),
        }),
      ],
    });
    acknowledgeWildcardPermissions(
      policy,
      'The wildcards are the stage (there is only $default) and the {userId} path parameter of each operator route: the support role acts on any user, and only through these routes.',
    );
    return policy;
  }
}
