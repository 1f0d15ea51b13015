import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../web/src/config.js';

const page = { origin: 'https://mfa.example.com' };

describe('web client configuration (config.json)', () => {
  it('defaults to the API on the page origin and the local dev tokens when config.json is absent', async () => {
    const config = await loadConfig(page, async () => new Response('Not found', { status: 404 }));
    expect(config).toEqual({ apiBaseUrl: 'https://mfa.example.com', identityProvider: { type: 'dev' }, emailCodes: false, rememberDeviceDays: 30 });
  });

  it('takes the API URL and an OpenID Connect provider from config.json, with defaults for the rest', () => {
    const config = parseConfig(
      { apiBaseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/', identityProvider: { type: 'oidc', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool', clientId: 'client-1' } },
      page,
    );
    expect(config).toEqual({
      apiBaseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      identityProvider: {
        type: 'oidc',
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool',
        clientId: 'client-1',
        scope: 'openid email',
        token: 'id_token',
        redirectUri: 'https://mfa.example.com/',
      },
      emailCodes: false,
      rememberDeviceDays: 30,
    });
    expect(parseConfig({ emailCodes: true, identityProvider: { type: 'oidc', issuer: 'https://idp.example.com', clientId: 'c' } }, page).emailCodes).toBe(true);
  });

  it('takes the days a remembered browser lasts (0: remembering is off)', () => {
    expect(parseConfig({ rememberDeviceDays: 7 }, page).rememberDeviceDays).toBe(7);
    expect(parseConfig({ rememberDeviceDays: 0 }, page).rememberDeviceDays).toBe(0);
  });

  it.each([
    ['a plain-http API outside this machine', { apiBaseUrl: 'http://api.example.com' }, /apiBaseUrl must be an https URL/],
    ['an unknown identity provider type', { identityProvider: { type: 'saml' } }, /must be "dev" or "oidc"/],
    ['an OIDC provider without a client id', { identityProvider: { type: 'oidc', issuer: 'https://idp.example.com' } }, /clientId is required/],
    ['a scope without openid', { identityProvider: { type: 'oidc', issuer: 'https://idp.example.com', clientId: 'c', scope: 'email' } }, /must include "openid"/],
    ['something that is not an object', ['https://api.example.com'], /must hold a JSON object/],
    ['emailCodes that is not a boolean', { emailCodes: 'yes' }, /emailCodes must be true or false/],
    ['more than 90 remembered days', { rememberDeviceDays: 91 }, /rememberDeviceDays must be a whole number from 0 to 90/],
    ['remembered days as text', { rememberDeviceDays: '30' }, /rememberDeviceDays must be a whole number from 0 to 90/],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => parseConfig(raw, page)).toThrow(ConfigError);
    expect(() => parseConfig(raw, page)).toThrow(message);
  });

  it('refuses to start on a config.json that is not JSON rather than falling back to dev tokens', async () => {
    await expect(loadConfig(page, async () => new Response('<html>', { status: 200 }))).rejects.toThrow(/not valid JSON/);
  });
});
