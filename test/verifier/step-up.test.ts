import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceKey } from '../../harness/device-key.js';
import { ManualClock } from '../../harness/manual-clock.js';
import { LOCAL_APP_AUDIENCE } from '../../local/local-stack.js';
import { createMfaVerifier, MfaAssertionError, stepUpChallenge, type MfaAssertionFailure, type MfaVerifier } from '../../verifier/index.js';
import { startHardeningStack, type EnrolledUser, type HardeningStack } from '../support/hardening-stack.js';
import { codeAt } from '../support/service.js';

/**
 * Step-up (RFC 9470) against assertions the service really signs: the local stack on a manual
 * clock set to real time (the verifier checks times against its own clock), a browser remembered
 * an hour ago, then a sign-in with it now.
 */
let h: HardeningStack;
let verifier: MfaVerifier;
let user: EnrolledUser;
let fresh: string;
let remembered: string;
const HOUR_S = 3600;

beforeAll(async () => {
  h = await startHardeningStack({ clock: new ManualClock(Date.now() - HOUR_S * 1000) });
  verifier = createMfaVerifier({ issuer: h.stack.url, audience: LOCAL_APP_AUDIENCE });
  user = await h.enrolledUser(`step-up-${randomUUID()}`);
  const key = new DeviceKey();
  h.clock.advance(30_000);
  const remembering = await h.call('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, h.clock), rememberDevice: { publicKey: key.publicJwk } });
  const deviceId: string = remembering.json.device.id;
  h.clock.set(Date.now());
  const { challenge } = (await h.call('POST', '/v1/mfa/device/challenge', user.token, { deviceId })).json;
  remembered = (await h.call('POST', '/v1/mfa/verify', user.token, key.proof(deviceId, challenge))).json.assertion;
  fresh = (await h.call('POST', '/v1/mfa/verify', user.token, { code: codeAt(user.secret, h.clock) })).json.assertion;
});
afterAll(() => h?.stop());

async function refusal(promise: Promise<unknown>): Promise<MfaAssertionFailure> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the assertion was accepted').toBeInstanceOf(MfaAssertionError);
  return (error as MfaAssertionError).reason;
}

describe('verify: require fresh and maxAuthAgeSeconds', () => {
  it("accepts a remembered browser's assertion when nothing more is required, with its claims", async () => {
    const claims = await verifier.verify(remembered);
    expect(claims).toMatchObject({ amr: ['mfa', 'swk'], remembered: true });
    expect(claims.iat - claims.auth_time!).toBeGreaterThanOrEqual(HOUR_S - 60);
  });

  it('refuses as not_fresh a remembered browser when a factor proven now is required', async () => {
    expect(await refusal(verifier.verify(remembered, { require: 'fresh' }))).toBe('not_fresh');
  });

  it('refuses as auth_too_old an assertion whose factor was proven longer ago than maxAuthAgeSeconds', async () => {
    expect(await refusal(verifier.verify(remembered, { maxAuthAgeSeconds: 600 }))).toBe('auth_too_old');
    expect((await verifier.verify(remembered, { maxAuthAgeSeconds: 2 * HOUR_S })).remembered).toBe(true);
  });

  it('accepts a factor proven now under both requirements (auth_time = iat)', async () => {
    const claims = await verifier.verify(fresh, { require: 'fresh', maxAuthAgeSeconds: 60 });
    expect(claims.auth_time).toBe(claims.iat);
    expect(claims).not.toHaveProperty('remembered');
  });

  it('refuses, as not_phishing_resistant, a remembered browser when phishing resistance is required (no pop)', async () => {
    expect(await refusal(verifier.verify(remembered, { require: 'phishing-resistant' }))).toBe('not_phishing_resistant');
  });

  it('throws on a misspelt requirement or a maxAuthAgeSeconds that is not positive, rather than skip the check', async () => {
    await expect(verifier.verify(fresh, { require: 'recent' as never })).rejects.toBeInstanceOf(TypeError);
    await expect(verifier.verify(fresh, { maxAuthAgeSeconds: 0 })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('stepUpChallenge', () => {
  it('writes the RFC 9470 WWW-Authenticate value, exactly', () => {
    expect(stepUpChallenge({ reason: 'auth_too_old', maxAge: 300 })).toBe(
      'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="300"',
    );
    expect(stepUpChallenge({ reason: 'not_phishing_resistant', acrValues: ['phrh', 'phr'] })).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phrh phr"',
    );
    expect(stepUpChallenge({ reason: 'not_fresh', maxAge: 0, acrValues: ['phr'] })).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A second factor proven now is required", acr_values="phr", max_age="0"',
    );
  });

  it('refuses values that would break out of the header', () => {
    expect(() => stepUpChallenge({ reason: 'not_fresh', acrValues: ['phr", evil="1'] })).toThrow(TypeError);
    expect(() => stepUpChallenge({ reason: 'not_fresh', maxAge: 1.5 })).toThrow(TypeError);
  });
});
