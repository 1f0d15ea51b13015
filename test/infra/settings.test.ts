import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../functions/config.js';
import { routeById } from '../../functions/http/routes.js';
import { serviceEnvironment, SERVICE_SETTING_ENV } from '../../functions/settings-schema.js';
import { DEFAULT_SETTINGS, resolveSettings, SETTING_NAMES, SettingsError } from '../../lib/settings.js';
import { cdkJsonContext } from './synth.js';

const settingsFrom = (context: Record<string, unknown>, overrides = {}) => resolveSettings(new App({ context }).node, overrides);

describe('deployment settings', () => {
  it('default to the documented values; cdk.json changes only webHosting (the stand-alone deployment hosts its web client)', () => {
    expect(settingsFrom({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.webHosting).toBe(false);
    expect(settingsFrom(cdkJsonContext())).toEqual({ ...DEFAULT_SETTINGS, webHosting: true });
  });

  it('read command-line strings: booleans, numbers and comma-separated lists', () => {
    const settings = settingsFrom({
      createTrail: 'false',
      throttleRateLimit: '20',
      corsAllowedOrigins: 'https://a.example, https://b.example:8443',
      firstFactorIssuerUrl: 'https://login.example.com/',
      firstFactorAudience: 'client-a,client-b',
      logLevel: 'debug',
    });
    expect(settings).toMatchObject({
      createTrail: false,
      throttleRateLimit: 20,
      corsAllowedOrigins: ['https://a.example', 'https://b.example:8443'],
      firstFactorIssuerUrl: 'https://login.example.com/',
      firstFactorAudience: ['client-a', 'client-b'],
      logLevel: 'DEBUG',
    });
  });

  it('read the WebAuthn relying party: a domain and a list of origins', () => {
    expect(settingsFrom({ webAuthnRpId: 'Example.COM', webAuthnOrigins: 'https://example.com, https://app.example.com:8443' })).toMatchObject({
      webAuthnRpId: 'example.com',
      webAuthnOrigins: ['https://example.com', 'https://app.example.com:8443'],
    });
  });

  it('let stack props override context', () => {
    expect(settingsFrom({ totpIssuerName: 'from-context' }, { totpIssuerName: 'from-props' }).totpIssuerName).toBe('from-props');
  });

  it.each([
    [{ firstFactorIssuerUrl: 'https://login.example.com' }, /firstFactorAudience is required/],
    [{ firstFactorAudience: 'client' }, /needs firstFactorIssuerUrl/],
    [{ firstFactorIssuerUrl: 'http://login.example.com', firstFactorAudience: 'c' }, /https URL/],
    [{ corsAllowedOrigins: '*' }, /not an origin/],
    [{ userPoolCallbackUrls: 'http://app.example.com/' }, /must be an https URL/],
    [{ userPoolCallbackUrls: 'https://app.example.com/', firstFactorIssuerUrl: 'https://login.example.com', firstFactorAudience: 'c' }, /not created/],
    [{ corsAllowedOrigins: 'https://app.example.com/path' }, /not an origin/],
    [{ assertionTtlSeconds: 600 }, /between 30 and 300/],
    [{ logRetentionDays: 42 }, /logRetentionDays must be one of/],
    [{ createTrail: 'no' }, /true or false/],
    [{ throttleRateLimit: '10rps' }, /whole number/],
    [{ throttleRateLimit: '1e2' }, /throttleRateLimit must be a whole number/],
    [{ logRetentionDays: '0x1e' }, /logRetentionDays must be a whole number/],
    [{ firstFactorIssuerUrl: 'https://login.example.com', firstFactorAudience: 'a'.repeat(257) }, /firstFactorAudience.0 must be 1-256 characters/],
    // A list reaches the functions as comma-separated text: an item with a comma would arrive as two.
    [{ adminPrincipalArns: ['arn:aws:iam::111122223333:role/x,arn:aws:iam::999999999999:role/Evil'] }, /adminPrincipalArns.0 must not contain a comma/],
    [{ logLevel: 'TRACE' }, /logLevel must be one of/],
    [{ alarmEmail: 'oncall' }, /not an email/],
    [{ webAuthnRpId: 'https://app.example.com' }, /webAuthnRpId must be a domain name/],
    [{ webAuthnOrigins: 'https://app.example.com/login' }, /webAuthnOrigins.0 is not an origin/],
    [{ webAuthnOrigins: 'http://app.example.com' }, /is not an origin/],
    [{ totpIssuerName: 'x'.repeat(65) }, /totpIssuerName must be at most 64 characters/],
  ])('refuse %j', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(SettingsError);
    expect(() => settingsFrom(context)).toThrow(message);
  });
});

describe('one schema for the stack and the functions', () => {
  const route = routeById('verifyMfa');
  const lambdaEnv = (settings: Parameters<typeof serviceEnvironment>[0]) =>
    ({
      MFA_ISSUER: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      MFA_TABLE_NAME: 't',
      MFA_TOTP_KEY_ID: 'k',
      MFA_SIGNING_KEY_ID: 's',
      AWS_LAMBDA_FUNCTION_NAME: 'verify',
      MFA_WEBAUTHN_RP_ID: 'example.com',
      MFA_WEBAUTHN_ORIGINS: 'https://example.com',
      ...serviceEnvironment(settings),
    }) as NodeJS.ProcessEnv;

  it.each([{ totpIssuerName: 'x'.repeat(65) }, { assertionTtlSeconds: 301 }, { assertionTtlSeconds: 29 }, { assertionAudienceMap: '["a"]' }, { assertionAudienceMap: '{"spa":""}' }, { webAuthnOrigins: 'https://a.example/path' }])(
    'the functions refuse at cold start what the stack refuses at synth: %j',
    (bad) => {
      expect(() => settingsFrom(bad)).toThrow(SettingsError);
      expect(() => loadConfig(route.access, lambdaEnv(bad as never))).toThrow(ConfigurationError);
    },
  );

  it('the settings the stack accepts reach the functions under the names they read, and pass their validation', () => {
    const settings = settingsFrom({
      assertionAudienceMap: '{"spa-client":"https://api.example.com"}',
      totpIssuerName: 'Example',
      assertionTtlSeconds: '120',
      webAuthnRpId: 'example.com',
      webAuthnOrigins: 'https://example.com,https://app.example.com',
    });
    const { assertionAudienceMap, totpIssuerName, assertionTtlSeconds, webAuthnRpId, webAuthnOrigins } = settings;
    const env = lambdaEnv({ assertionAudienceMap, totpIssuerName, assertionTtlSeconds, webAuthnRpId, webAuthnOrigins });
    expect(env).toMatchObject({
      [SERVICE_SETTING_ENV.assertionAudienceMap]: '{"spa-client":"https://api.example.com"}',
      MFA_TOTP_ISSUER_NAME: 'Example',
      MFA_ASSERTION_TTL_SECONDS: '120',
      MFA_WEBAUTHN_RP_ID: 'example.com',
      MFA_WEBAUTHN_ORIGINS: 'https://example.com,https://app.example.com',
    });
    expect(loadConfig(route.access, env)).toMatchObject({
      audienceMap: { 'spa-client': 'https://api.example.com' },
      totpIssuerName: 'Example',
      assertionTtlSeconds: 120,
      webauthnRpId: 'example.com',
      webauthnOrigins: ['https://example.com', 'https://app.example.com'],
    });
  });

  it('lib/settings.ts validates nothing by hand that the shared schemas cover', () => {
    const source = readFileSync(new URL('../../lib/settings.ts', import.meta.url), 'utf8');
    for (const field of ['assertionAudienceMap', 'totpIssuerName', 'assertionTtlSeconds', 'rememberDeviceDays', 'webAuthnRpId', 'emailCodes', 'emailFrom', 'emailConfigurationSet', 'securityNotifications', 'supportUrl']) {
      // The functions' rules (plain functions) wrapped as zod schemas by `ruled`, not restated.
      expect(source, field).toMatch(new RegExp(`${field}: ruled\\((literalOr\\()?ServiceSettingRules\\.${field}\\b`));
    }
  });
});

describe('docs/deploying.md', () => {
  const doc = readFileSync(new URL('../../docs/deploying.md', import.meta.url), 'utf8');

  it('documents every context parameter with its default', () => {
    const rows = new Map(
      doc
        .split('\n')
        .map((line) => /^\| `(\w+)` \| ([^|]+) \|/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => [match[1]!, match[2]!.trim()]),
    );
    const parameters = Object.keys(cdkJsonContext()).filter((name) => !name.includes(':') && name !== 'cli-telemetry');
    expect(parameters.sort()).toEqual(['stackName', ...SETTING_NAMES].sort());
    for (const name of parameters) {
      expect(rows.has(name), `${name} has a row`).toBe(true);
      const value = name === 'stackName' ? 'ServerlessMfa' : DEFAULT_SETTINGS[name as keyof typeof DEFAULT_SETTINGS];
      if (typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && value !== '')) {
        expect(rows.get(name), `default of ${name}`).toContain(String(value));
      }
    }
  });
});
