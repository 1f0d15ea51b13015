import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
  type BehaviorOptions,
  type ResponseHeadersPolicyProps,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { WebClientConfig } from '../../web/src/config.js';
import { webSecurityHeaders } from '../../web/security-headers.js';
import { existingAsset, WEB_ASSET_DIR } from '../assets.js';
import { acknowledgeWildcardPermissions } from '../nag.js';

export interface WebHostingProps {
  /** The MFA API: served through the distribution on the same origin as the client. */
  httpApi: IHttpApi;
  /** Paths (CloudFront path patterns) forwarded to the API; the web client calls only these. */
  apiPathPatterns: string[];
  /**
   * Origins the page fetches besides its own: the identity provider's discovery and token
   * endpoints. They go into the CSP `connect-src`.
   */
  identityProviderOrigins: string[];
}

/**
 * The reference web client in the cloud: a private S3 bucket read only by CloudFront (origin
 * access control), one distribution serving the client and, on the same origin, the API paths
 * the client calls (so the browser needs no CORS and the CSP `connect-src` stays `'self'` plus
 * the identity provider), and the security headers of web/security-headers.ts, the same the
 * local server sends, as a response-headers policy. `deploy()` uploads the build with its
 * generated `config.json`.
 */
export class WebHosting extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly responseHeadersPolicy: ResponseHeadersPolicy;
  /** `https://<distribution domain>`: the client's origin (and the WebAuthn origin by default). */
  readonly url: string;
  readonly domainName: string;

  constructor(scope: Construct, id: string, props: WebHostingProps) {
    super(scope, id);

    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Only built files live here, reproducible from the repository; the bucket is emptied and
      // refilled by each deployment.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds only the built web client, written by the deployment and read only by CloudFront through origin access control; who deployed what is in CloudTrail.',
    });

    this.responseHeadersPolicy = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'serverless-mfa web client: CSP and security headers (web/security-headers.ts)',
      ...responseHeadersPolicyOf(webSecurityHeaders({ connectOrigins: props.identityProviderOrigins })),
    });

    const apiOrigin = new HttpOrigin(Fn.select(2, Fn.split('/', props.httpApi.apiEndpoint)), {
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
    });
    // The API is never cached, and gets every viewer header but Host (API Gateway routes on its
    // own host name), so the Authorization header reaches the JWT authorizer.
    const apiBehavior: BehaviorOptions = {
      origin: apiOrigin,
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'serverless-mfa web client',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
      },
      additionalBehaviors: Object.fromEntries(props.apiPathPatterns.map((pattern) => [pattern, apiBehavior])),
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Users sign in from wherever they are; the first factor and the second-factor lockout protect the API, not the location of the caller.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'A web ACL costs per month and per rule; code guessing is stopped by the per-user lockout, and the API stage is throttled. Attach your own web ACL if you run one.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason: 'The distribution serves static files; every API call it forwards is logged by the API access log and the audit log. Enable standard logging if you need edge logs.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason: 'The default *.cloudfront.net certificate cannot set a minimum TLS version; viewers negotiate TLS 1.2 or 1.3 in practice. A custom domain with its own certificate sets TLSv1.2_2021.',
      },
    );

    this.domainName = this.distribution.distributionDomainName;
    this.url = `https://${this.domainName}`;
  }

  /** Uploads the built client and its `config.json`, then invalidates the distribution's cache. */
  deploy(config: WebClientConfig): BucketDeployment {
    const deployment = new BucketDeployment(this, 'Deployment', {
      // The client pre-built by web/build.ts (assets/web, lib/assets.ts) and this deployment's configuration.
      sources: [Source.asset(existingAsset(WEB_ASSET_DIR, 'index.html')), Source.jsonData('config.json', config)],
      destinationBucket: this.bucket,
      // Not fingerprinted: browsers revalidate, so a new deployment is picked up at once.
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    acknowledgeDeploymentHandler(Stack.of(this));
    return deployment;
  }
}

/**
 * The headers of web/security-headers.ts as a CloudFront response-headers policy: CloudFront
 * takes the security headers it knows as typed settings and the others as custom headers.
 * HSTS is added here: it only means something over HTTPS, which the local server does not use.
 */
export function responseHeadersPolicyOf(headers: Record<string, string>): Pick<ResponseHeadersPolicyProps, 'securityHeadersBehavior' | 'customHeadersBehavior'> {
  const custom: { header: string; value: string; override: boolean }[] = [];
  const security: { -readonly [K in keyof NonNullable<ResponseHeadersPolicyProps['securityHeadersBehavior']>]: NonNullable<ResponseHeadersPolicyProps['securityHeadersBehavior']>[K] } = {
    strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
  };
  for (const [name, value] of Object.entries(headers)) {
    switch (name.toLowerCase()) {
      case 'content-security-policy':
        security.contentSecurityPolicy = { contentSecurityPolicy: value, override: true };
        break;
      case 'x-frame-options':
        security.frameOptions = { frameOption: value.toUpperCase() === 'DENY' ? HeadersFrameOption.DENY : HeadersFrameOption.SAMEORIGIN, override: true };
        break;
      case 'x-content-type-options':
        if (value !== 'nosniff') throw new Error(`X-Content-Type-Options: CloudFront can only send nosniff, not ${value}.`);
        security.contentTypeOptions = { override: true };
        break;
      case 'referrer-policy': {
        const policy = Object.values(HeadersReferrerPolicy).find((candidate) => candidate === value);
        if (!policy) throw new Error(`Referrer-Policy ${value} is not one CloudFront can send.`);
        security.referrerPolicy = { referrerPolicy: policy, override: true };
        break;
      }
      default:
        custom.push({ header: name, value, override: true });
    }
  }
  return { securityHeadersBehavior: security, ...(custom.length > 0 ? { customHeadersBehavior: { customHeaders: custom } } : {}) };
}

/** The bucket deployment's handler is a singleton CDK creates at stack level, once per memory size. */
function acknowledgeDeploymentHandler(stack: Stack): void {
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
    acknowledgeWildcardPermissions(
      child,
      'CDK bucket deployment handler: it copies the staged asset objects (asset bucket) into the web bucket and prunes old files, which needs object wildcards on both; it runs only during deployments.',
    );
    Validations.of(child).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'CDK bucket deployment handler (a deploy-time custom resource): AWSLambdaBasicExecutionRole only lets it write its own logs.',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'CDK bucket deployment handler: CDK pins its runtime (it bundles the AWS CLI layer for it); it runs only during deployments, never on user requests.',
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'CDK bucket deployment handler: CloudFormation invokes it and waits for its answer; a failure fails and rolls back the deployment.',
      },
      {
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason: 'CDK bucket deployment handler: CloudFormation invokes it and waits for its answer; a failure fails and rolls back the deployment.',
      },
      {
        id: 'Serverless-LambdaTracing',
        reason: 'CDK bucket deployment handler: a deploy-time copy job, its outcome is in the CloudFormation events; tracing would show nothing about user requests.',
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason: 'CDK bucket deployment handler: CDK pins its runtime (it bundles the AWS CLI layer for it); it runs only during deployments.',
      },
      {
        id: 'Serverless-LambdaDefaultMemorySize',
        reason: 'CDK bucket deployment handler: its memory is set explicitly by the deployment (256 MB), large enough to unzip the web client.',
      },
    );
  }
}
