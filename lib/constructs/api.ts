import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../functions/http/routes.js';

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
 * The HTTP API: one `$default` stage with throttling and JSON access logs, and a JWT authorizer
 * for the first-factor issuer on every `first-factor` route. Only routes from the route table
 * are added; there is no `/dev/*` route in the cloud.
 */
export class MfaApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;
  readonly firstFactorAuthorizer: HttpJwtAuthorizer;
  /** The API's base URL without a trailing slash: this service's issuer (MFA_ISSUER). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: MfaApiProps) {
    super(scope, id);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'serverless-mfa: TOTP second factor',
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

  /** Routes a table entry to its function, behind the first-factor authorizer unless the route is public. */
  addRoute(route: RouteDefinition, fn: IFunction): HttpRoute {
    const [httpRoute] = this.httpApi.addRoutes({
      path: route.path,
      methods: [HttpMethod[route.method]],
      integration: new HttpLambdaIntegration(`${route.id}Integration`, fn),
      ...(route.auth === 'first-factor' ? { authorizer: this.firstFactorAuthorizer } : {}),
    });
    if (route.auth === 'public') {
      Validations.of(httpRoute!).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${route.method} ${route.path} is public by design: relying parties fetch it without credentials to verify MFA assertions (OpenID discovery and JWKS).`,
      });
    }
    return httpRoute!;
  }
}
