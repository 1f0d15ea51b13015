import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type RouteDefinition } from '../../functions/http/routes.js';
import { responseHeadersPolicyOf, WebHosting } from '../../lib/constructs/web-hosting.js';
import { webSecurityHeaders } from '../../web/security-headers.js';
import { logicalId, resource, resources, SKIP_BUNDLING, synthesize, type Synthesized } from './synth.js';

let web: Synthesized;
let plain: Synthesized;
beforeAll(() => {
  web = synthesize({ context: SKIP_BUNDLING });
  plain = synthesize({ context: { ...SKIP_BUNDLING, webHosting: 'false', webAuthnRpId: 'app.example.com' } });
});

const hosting = () => web.stack.mfa.webHosting!;
const distribution = () => resource(web, logicalId(hosting().distribution)).Properties!.DistributionConfig as Record<string, any>;
const domainName = () => ({ 'Fn::GetAtt': [logicalId(hosting().distribution), 'DomainName'] });

describe('web hosting', () => {
  it('is on in the stand-alone cdk.json, and with webHosting=false there is no bucket, distribution or deployment', () => {
    expect(web.stack.mfa.webHosting).toBeDefined();
    expect(plain.stack.mfa.webHosting).toBeUndefined();
    plain.template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    plain.template.resourceCountIs('Custom::CDKBucketDeployment', 0);
  });

  it('keeps the client in a private, encrypted, SSL-only bucket that only the distribution reads, through origin access control', () => {
    const bucketId = logicalId(hosting().bucket);
    expect(resource(web, bucketId).Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const [s3Origin] = distribution().Origins.filter((origin: any) => origin.S3OriginConfig);
    expect(s3Origin.DomainName).toEqual({ 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] });
    expect(s3Origin.OriginAccessControlId).toBeDefined();
    expect(s3Origin.S3OriginConfig.OriginAccessIdentity).toBe('');
    const [, policy] = resources(web, 'AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties!.Bucket) === JSON.stringify({ Ref: bucketId }))!;
    const statements = (policy.Properties!.PolicyDocument as { Statement: any[] }).Statement;
    const read = statements.find((s) => s.Effect === 'Allow');
    expect(read).toMatchObject({ Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' } });
    expect(JSON.stringify(read.Condition)).toContain(logicalId(hosting().distribution));
    expect(statements.find((s) => s.Effect === 'Deny')).toMatchObject({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('sends the security headers of web/security-headers.ts, the local server’s, with the identity provider in connect-src, plus HSTS', () => {
    const config = resource(web, logicalId(hosting().responseHeadersPolicy)).Properties!.ResponseHeadersPolicyConfig as Record<string, any>;
    const stack = web.stack as Stack;
    const pool = web.stack.identityProvider!;
    const expected = stack.resolve(
      responseHeadersPolicyOf(webSecurityHeaders({ connectOrigins: [`https://cognito-idp.${stack.region}.${stack.urlSuffix}`, pool.domain!.baseUrl()] })),
    );
    expect(config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy).toEqual(expected.securityHeadersBehavior.contentSecurityPolicy.contentSecurityPolicy);
    expect(config.SecurityHeadersConfig).toMatchObject({
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 31536000, IncludeSubdomains: true, Override: true },
    });
    expect(config.CustomHeadersConfig.Items).toEqual([{ Header: 'Cross-Origin-Opener-Policy', Value: 'same-origin', Override: true }]);
    expect(distribution().DefaultCacheBehavior).toMatchObject({ ResponseHeadersPolicyId: { Ref: logicalId(hosting().responseHeadersPolicy) }, ViewerProtocolPolicy: 'redirect-to-https' });
  });

  it('maps every header of the shared definition: a header CloudFront cannot send fails the synth instead of being dropped', () => {
    const policy = responseHeadersPolicyOf(webSecurityHeaders());
    const sent = [
      ...Object.keys(policy.securityHeadersBehavior!).filter((name) => name !== 'strictTransportSecurity'),
      ...(policy.customHeadersBehavior?.customHeaders ?? []).map((header) => header.header),
    ];
    expect(sent).toHaveLength(Object.keys(webSecurityHeaders()).length);
    expect(() => responseHeadersPolicyOf({ 'X-Content-Type-Options': 'sniff' })).toThrow(/nosniff/);
    expect(() => responseHeadersPolicyOf({ 'Referrer-Policy': 'sometimes' })).toThrow(/Referrer-Policy/);
  });

  it('serves the API paths the client calls on the same origin, uncached, with every viewer header but Host; never /admin', () => {
    const behaviors = distribution().CacheBehaviors as any[];
    const expectedPatterns = [...new Set((ROUTES as readonly RouteDefinition[]).filter((route) => route.auth !== 'iam').map((route) => `/${route.path.split('/')[1]}/*`))].sort();
    expect(behaviors.map((behavior) => behavior.PathPattern).sort()).toEqual(expectedPatterns);
    const apiOrigin = distribution().Origins.find((origin: any) => origin.CustomOriginConfig);
    expect(apiOrigin.DomainName).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [logicalId(web.stack.mfa.api.httpApi), 'ApiEndpoint'] }] }] });
    expect(apiOrigin.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    for (const behavior of behaviors) {
      expect(behavior).toMatchObject({
        TargetOriginId: apiOrigin.Id,
        ViewerProtocolPolicy: 'https-only',
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // CachingDisabled
        OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // AllViewerExceptHostHeader
      });
      expect(behavior.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'OPTIONS']));
    }
  });

  it('deploys the built client with a generated config.json (API on the same origin, the user pool as OIDC provider), no-cache, then invalidates', () => {
    const [[, deployment]] = resources(web, 'Custom::CDKBucketDeployment') as unknown as [[string, { Properties: Record<string, any> }]];
    expect(deployment.Properties).toMatchObject({
      DestinationBucketName: { Ref: logicalId(hosting().bucket) },
      Prune: true,
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionId: { Ref: logicalId(hosting().distribution) },
      DistributionPaths: ['/*'],
    });
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(2);
    // config.json's tokens, in the order they appear: the page origin, the issuer (region, suffix, pool), the client, the redirect URI.
    const markers = Object.values(deployment.Properties.SourceMarkers[1] as Record<string, unknown>);
    expect(markers).toEqual([
      domainName(),
      { Ref: 'AWS::Region' },
      { Ref: 'AWS::URLSuffix' },
      { Ref: logicalId(web.stack.identityProvider!.userPool) },
      { Ref: logicalId(web.stack.identityProvider!.client) },
      domainName(),
    ]);
  });

  it('adds the client to the user pool’s hosted sign-in (callback URL, code + PKCE) and makes its origin the WebAuthn relying party', () => {
    const client = resource(web, logicalId(web.stack.identityProvider!.client)).Properties!;
    const url = { 'Fn::Join': ['', ['https://', domainName(), '/']] };
    expect(client).toMatchObject({ AllowedOAuthFlows: ['code'], CallbackURLs: [url], LogoutURLs: [url] });
    web.template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    for (const { fn } of web.stack.mfa.functions.byRoute.values()) {
      const env = (resource(web, logicalId(fn.function)).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.MFA_WEBAUTHN_RP_ID).toEqual(domainName());
      expect(env.MFA_WEBAUTHN_ORIGINS).toEqual({ 'Fn::Join': ['', ['https://', domainName()]] });
    }
  });

  it('uses the configured WebAuthn relying party instead when one is given', () => {
    const custom = synthesize({ context: { ...SKIP_BUNDLING, webAuthnRpId: 'example.com', webAuthnOrigins: 'https://example.com,https://app.example.com' } });
    const fn = custom.stack.mfa.functions.byRoute.get('verifyMfa')!.fn;
    const env = (resource(custom, logicalId(fn.function)).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({ MFA_WEBAUTHN_RP_ID: 'example.com', MFA_WEBAUTHN_ORIGINS: 'https://example.com,https://app.example.com' });
    const withoutWeb = (resource(plain, logicalId(plain.stack.mfa.functions.byRoute.get('verifyMfa')!.fn.function)).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(withoutWeb).toMatchObject({ MFA_WEBAUTHN_RP_ID: 'app.example.com', MFA_WEBAUTHN_ORIGINS: 'https://app.example.com' });
    expect(() => synthesize({ context: { ...SKIP_BUNDLING, webHosting: 'false' } })).toThrow(/webAuthnRpId is required/);
  });

  it('outputs the web URL, bucket and distribution', () => {
    const outputs = web.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.WebUrl!.Value).toEqual({ 'Fn::Join': ['', ['https://', domainName()]] });
    expect(outputs.WebBucketName!.Value).toEqual({ Ref: logicalId(hosting().bucket) });
    expect(outputs.WebDistributionId!.Value).toEqual({ Ref: logicalId(hosting().distribution) });
  });

  it('deploys the client pre-built by web/build.ts (assets/web, rebuilt before each synth and test run)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'mfa-web-asset-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'WebOnly');
      const httpApi = HttpApi.fromHttpApiAttributes(stack, 'Api', { httpApiId: 'abc123', apiEndpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com' });
      const site = new WebHosting(stack, 'Web', { httpApi, apiPathPatterns: ['/v1/*'], identityProviderOrigins: ['https://login.example.com'] });
      site.deploy({ apiBaseUrl: 'https://example.cloudfront.net', identityProvider: { type: 'dev' }, emailCodes: false, rememberDeviceDays: 30 });
      app.synth();
      const staged = readdirSync(outdir).filter((name) => existsSync(join(outdir, name, 'index.html')));
      expect(staged).toHaveLength(1);
      const dir = join(outdir, staged[0]!);
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('/assets/app.js');
      expect(readFileSync(join(dir, 'assets', 'app.js'), 'utf8').length).toBeGreaterThan(5000);
      expect(existsSync(join(dir, 'assets', 'styles.css'))).toBe(true);
      // config.json comes from the deployment, never from a stale local build.
      expect(existsSync(join(dir, 'config.json'))).toBe(false);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
