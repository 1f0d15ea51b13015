import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, resolveSettings, SettingsError } from '../../lib/settings.js';
import { cdkJsonContext } from './synth.js';

const settingsFrom = (context: Record<string, unknown>, overrides = {}) => resolveSettings(new App({ context }).node, overrides);

describe('deployment settings', () => {
  it('default to the documented values, with cdk.json changing none of them', () => {
    expect(settingsFrom({})).toEqual(DEFAULT_SETTINGS);
    expect(settingsFrom(cdkJsonContext())).toEqual(DEFAULT_SETTINGS);
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

  it('let stack props override context', () => {
    expect(settingsFrom({ assertionAudience: 'from-context' }, { assertionAudience: 'from-props' }).assertionAudience).toBe('from-props');
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
    [{ logLevel: 'TRACE' }, /logLevel must be one of/],
    [{ alarmEmail: 'oncall' }, /not an email/],
  ])('refuse %j', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(SettingsError);
    expect(() => settingsFrom(context)).toThrow(message);
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
    expect(parameters.sort()).toEqual(['stackName', ...Object.keys(DEFAULT_SETTINGS)].sort());
    for (const name of parameters) {
      expect(rows.has(name), `${name} has a row`).toBe(true);
      const value = name === 'stackName' ? 'ServerlessMfa' : DEFAULT_SETTINGS[name as keyof typeof DEFAULT_SETTINGS];
      if (typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && value !== '')) {
        expect(rows.get(name), `default of ${name}`).toContain(String(value));
      }
    }
  });
});
