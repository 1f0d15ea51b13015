import { describe, expect, it, vi } from 'vitest';
import { ConfigurationError, loadConfig } from '../../functions/config.js';
import { loadPublicConfig } from '../../functions/public-config.js';
import { routeById } from '../../functions/http/routes.js';
import { createServices } from '../../functions/composition.js';

const BASE = {
  MFA_ISSUER: 'https://mfa.example.com',
  MFA_TABLE_NAME: 'mfa',
  MFA_WEBAUTHN_RP_ID: 'example.com',
  MFA_WEBAUTHN_ORIGINS: 'https://app.example.com,https://example.com',
  MFA_FIRST_FACTOR_AUDIENCES: 'spa-client',
};
const verify = routeById('verifyMfa');

describe('configuration', () => {
  it('refuses to start a KMS-using function without its key ids', () => {
    expect(() => loadConfig(verify.access, BASE)).toThrow(ConfigurationError);
    expect(() => loadConfig(verify.access, { ...BASE, MFA_TOTP_KEY_ID: 'k' })).toThrow(/MFA_SIGNING_KEY_ID/);
    expect(() => loadConfig(verify.access, { ...BASE, MFA_SIGNING_KEY_ID: 's' })).toThrow(/MFA_TOTP_KEY_ID/);
    expect(loadConfig(verify.access, { ...BASE, MFA_TOTP_KEY_ID: 'k', MFA_SIGNING_KEY_ID: 's' }).adapters).toBe('aws');
  });

  it('refuses to start an operator (admin) function without the principals it admits: fail closed', () => {
    const admin = routeById('adminResetMfa');
    expect(() => loadConfig(admin.access, BASE, admin.auth)).toThrow(/MFA_ADMIN_PRINCIPAL_ARNS/);
    expect(() => createServices(admin, { ...BASE, AWS_LAMBDA_FUNCTION_NAME: 'reset' })).toThrow(/MFA_ADMIN_PRINCIPAL_ARNS/);
    expect(() => loadConfig(admin.access, { ...BASE, MFA_ADMIN_PRINCIPAL_ARNS: 'arn:aws:iam::111122223333:role/*' }, admin.auth)).toThrow(/MFA_ADMIN_PRINCIPAL_ARNS/);
    expect(loadConfig(admin.access, { ...BASE, MFA_ADMIN_PRINCIPAL_ARNS: 'arn:aws:iam::111122223333:role/support' }, admin.auth).adminPrincipalArns).toEqual(['arn:aws:iam::111122223333:role/support']);
    // Other functions neither need nor read it; locally, unset names nobody.
    expect(() => loadConfig(routeById('getMfaStatus').access, BASE, 'first-factor')).not.toThrow();
    expect(loadConfig(admin.access, { ...BASE, MFA_ADAPTERS: 'local' }, admin.auth).adminPrincipalArns).toEqual([]);
  });

  it('refuses the local key files inside Lambda: no silent fallback', () => {
    const env = { ...BASE, MFA_ADAPTERS: 'local', AWS_LAMBDA_FUNCTION_NAME: 'verify' };
    expect(() => loadConfig(verify.access, env)).toThrow(/refused inside AWS Lambda/);
    expect(() => createServices(verify, env)).toThrow(ConfigurationError);
  });

  it('asks only for what a function uses', () => {
    expect(() => loadConfig(routeById('getMfaStatus').access, BASE)).not.toThrow();
    expect(() => loadConfig(routeById('getOpenIdConfiguration').access, { MFA_ISSUER: BASE.MFA_ISSUER })).not.toThrow();
    expect(() => loadConfig(routeById('getMfaStatus').access, { ...BASE, MFA_TABLE_NAME: '' })).toThrow(ConfigurationError);
  });

  it('refuses to start a function with table access in AWS without its WebAuthn relying party, and reads it as configured', () => {
    const { MFA_WEBAUTHN_RP_ID: _rp, ...withoutRp } = BASE;
    expect(() => loadConfig(routeById('getMfaStatus').access, withoutRp)).toThrow(/MFA_WEBAUTHN_RP_ID/);
    expect(() => loadConfig(routeById('getMfaStatus').access, { ...BASE, MFA_WEBAUTHN_ORIGINS: 'https://app.example.com/path' })).toThrow(/MFA_WEBAUTHN_ORIGINS/);
    const config = loadConfig(routeById('getMfaStatus').access, BASE);
    expect(config.webauthnRpId).toBe('example.com');
    expect(config.webauthnOrigins).toEqual(['https://app.example.com', 'https://example.com']);
    const local = loadConfig(routeById('getMfaStatus').access, { MFA_ISSUER: BASE.MFA_ISSUER, MFA_TABLE_NAME: 'mfa', MFA_ADAPTERS: 'local', PORT: '4100' });
    expect([local.webauthnRpId, local.webauthnOrigins]).toEqual(['localhost', ['http://localhost:4100']]);
  });

  it('refuses to start a first-factor function in AWS without the first-factor audiences, and reads them as a list', () => {
    const status = routeById('getMfaStatus');
    const { MFA_FIRST_FACTOR_AUDIENCES: _audiences, ...withoutAudiences } = BASE;
    expect(() => loadConfig(status.access, withoutAudiences, status.auth)).toThrow(/MFA_FIRST_FACTOR_AUDIENCES/);
    expect(() => createServices(status, withoutAudiences)).toThrow(/MFA_FIRST_FACTOR_AUDIENCES/);
    expect(() => loadConfig(status.access, { ...BASE, MFA_FIRST_FACTOR_AUDIENCES: ' , ' }, status.auth)).toThrow(/MFA_FIRST_FACTOR_AUDIENCES/);
    // The operators' functions take no user token: they need no audience.
    const admin = routeById('adminGetMfaStatus');
    expect(() => loadConfig(admin.access, { ...withoutAudiences, MFA_ADMIN_PRINCIPAL_ARNS: 'arn:aws:iam::111122223333:role/support' }, admin.auth)).not.toThrow();
    expect(loadConfig(status.access, { ...BASE, MFA_FIRST_FACTOR_AUDIENCES: 'https://app.example.com, spa-client' }, status.auth).firstFactorAudiences).toEqual([
      'https://app.example.com',
      'spa-client',
    ]);
    // Locally, without the setting, no token names an accepted audience: every first-factor call is refused.
    const local = loadConfig(routeById('getMfaStatus').access, { MFA_ISSUER: BASE.MFA_ISSUER, MFA_TABLE_NAME: 'mfa', MFA_ADAPTERS: 'local' });
    expect(local.firstFactorAudiences).toEqual([]);
  });

  it('reads the audience map as JSON and refuses anything else', () => {
    const config = loadConfig(routeById('getMfaStatus').access, { ...BASE, MFA_ASSERTION_AUDIENCE_MAP: '{"spa-client":"https://api.example.com"}' });
    expect(config.audienceMap).toEqual({ 'spa-client': 'https://api.example.com' });
    expect(loadConfig(routeById('getMfaStatus').access, BASE).audienceMap).toEqual({});
    expect(() => loadConfig(routeById('getMfaStatus').access, { ...BASE, MFA_ASSERTION_AUDIENCE_MAP: '["a"]' })).toThrow(/MFA_ASSERTION_AUDIENCE_MAP/);
    expect(() => loadConfig(routeById('getMfaStatus').access, { ...BASE, MFA_ASSERTION_AUDIENCE_MAP: '{"a":""}' })).toThrow(/MFA_ASSERTION_AUDIENCE_MAP/);
  });

  it('refuses an assertion lifetime over 300 s and a malformed issuer, naming only the variables', () => {
    const env = { ...BASE, MFA_TOTP_KEY_ID: 'k', MFA_SIGNING_KEY_ID: 's' };
    expect(() => loadConfig(verify.access, { ...env, MFA_ASSERTION_TTL_SECONDS: '301' })).toThrow(/MFA_ASSERTION_TTL_SECONDS/);
    expect(() => loadConfig(verify.access, { ...env, MFA_ISSUER: 'not a url' })).toThrow(/MFA_ISSUER/);
    // The URL parser would drop the newline; the issuer the assertions carry would still hold it.
    expect(() => loadConfig(verify.access, { ...env, MFA_ISSUER: 'https://mfa.example\n.com' })).toThrow(/MFA_ISSUER/);
  });

  it('makes a Lambda handler module refuse to load at cold start without its KMS configuration', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, BASE, { AWS_LAMBDA_FUNCTION_NAME: 'verify-mfa' });
    delete process.env.MFA_TOTP_KEY_ID;
    delete process.env.MFA_SIGNING_KEY_ID;
    try {
      vi.resetModules();
      await expect(import('../../functions/handlers/verify-mfa.js')).rejects.toThrow(/Missing configuration: MFA_TOTP_KEY_ID, MFA_SIGNING_KEY_ID/);
    } finally {
      process.env = saved;
    }
  });

  describe('of the public functions (read by the lighter public reader)', () => {
    const PUBLIC = { MFA_ISSUER: 'https://mfa.example.com/', MFA_SIGNING_KEY_ID: 's' };
    const cases: [string, NodeJS.ProcessEnv][] = [
      ['complete', PUBLIC],
      ['no issuer', { MFA_SIGNING_KEY_ID: 's' }],
      ['a malformed issuer', { ...PUBLIC, MFA_ISSUER: 'not a url' }],
      ['an issuer with a newline inside', { ...PUBLIC, MFA_ISSUER: 'https://mfa.example\n.com' }],
      ['an issuer with blanks around it', { ...PUBLIC, MFA_ISSUER: '  https://mfa.example.com/  ' }],
      ['no signing key', { MFA_ISSUER: PUBLIC.MFA_ISSUER }],
      ['an empty signing key', { ...PUBLIC, MFA_SIGNING_KEY_ID: '' }],
      ['unknown adapters', { ...PUBLIC, MFA_ADAPTERS: 'disk' }],
      ['local adapters', { ...PUBLIC, MFA_ADAPTERS: 'local', MFA_DATA_DIR: '/tmp/mfa' }],
      ['local adapters inside Lambda', { ...PUBLIC, MFA_ADAPTERS: 'local', AWS_LAMBDA_FUNCTION_NAME: 'jwks' }],
    ];
    const outcome = (read: () => unknown) => {
      try {
        return { config: read() };
      } catch (error) {
        return { error: `${(error as Error).name}: ${(error as Error).message}` };
      }
    };

    it.each(cases)('answer as loadConfig does for the key set, given %s', (_name, env) => {
      const full = outcome(() => loadConfig(routeById('getJwks').access, { MFA_ASSERTION_AUDIENCE: 'app', ...env }));
      const light = outcome(() => loadPublicConfig(env, { signingKey: true }));
      expect(light.error).toBe(full.error);
      if (!full.error) {
        const { adapters, signingKeyId, dataDir, issuer } = full.config as ReturnType<typeof loadConfig>;
        expect(light.config).toEqual({ adapters, signingKeyId, dataDir, issuer });
      }
    });

    it('need no signing key for the discovery document', () => {
      expect(loadPublicConfig({ MFA_ISSUER: 'https://mfa.example.com' }, { signingKey: false }).issuer).toBe('https://mfa.example.com');
      expect(() => loadPublicConfig({}, { signingKey: false })).toThrow(/Invalid or missing configuration: MFA_ISSUER/);
    });
  });
});
