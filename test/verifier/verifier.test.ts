import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createMemoryReplayCache,
  createMfaVerifier,
  MfaAssertionError,
  MfaVerifierUnavailableError,
  type MfaAssertionFailure,
  type MfaVerifierOptions,
} from '../../verifier/index.js';
import { newIssuerKey, startAssertionIssuer, type AssertionIssuer } from '../support/assertion-issuer.js';

let issuer: AssertionIssuer;
beforeAll(async () => {
  issuer = await startAssertionIssuer();
});
afterAll(() => issuer?.stop());
beforeEach(async () => {
  issuer.publish([await newIssuerKey()]);
  issuer.claimIssuer(undefined);
});

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const verifierFor = (options: Partial<MfaVerifierOptions> = {}) => createMfaVerifier({ issuer: issuer.issuer, audience: 'app-one', ...options });

async function refusal(promise: Promise<unknown>): Promise<MfaAssertionFailure> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the assertion was accepted').toBeInstanceOf(MfaAssertionError);
  return (error as MfaAssertionError).reason;
}

describe('createMfaVerifier().verify', () => {
  it('accepts a genuine assertion and resolves to its claims', async () => {
    const token = await issuer.sign({ sub: 'alice', nonce: 'n-1', amr: ['mfa', 'otp'] });
    const claims = await verifierFor().verify(token, { nonce: 'n-1', subject: 'alice', maxAgeSeconds: 60 });
    expect(claims).toMatchObject({ iss: issuer.issuer, sub: 'alice', aud: 'app-one', nonce: 'n-1', amr: ['mfa', 'otp'] });
    expect(claims.jti).toEqual(expect.any(String));
  });

  it('takes an issuer configured with a trailing slash for the same issuer', async () => {
    expect((await verifierFor({ issuer: `${issuer.issuer}/` }).verify(await issuer.sign())).iss).toBe(issuer.issuer);
  });

  it('refuses as bad_signature what the issuer did not sign, or signed and someone altered', async () => {
    const verifier = verifierFor();
    const genuine = await issuer.sign();
    const [header, payload, signature] = genuine.split('.');
    const stranger = { ...(await newIssuerKey()), kid: issuer.keys[0]!.kid };
    const hs256Input = `${b64url({ alg: 'HS256', typ: 'mfa+jwt', kid: issuer.keys[0]!.kid })}.${payload}`;
    const forged: Array<[string, string]> = [
      ['another key under the real kid', await issuer.sign({}, {}, stranger)],
      ['claims swapped', `${header}.${b64url({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'mallory' })}.${signature}`],
      ['signature cut', `${header}.${payload}.`],
      ['alg none', `${b64url({ alg: 'none', typ: 'mfa+jwt' })}.${payload}.`],
      ['HS256 keyed with the public JWK', `${hs256Input}.${createHmac('sha256', JSON.stringify(issuer.keys[0]!.publicJwk)).update(hs256Input).digest('base64url')}`],
      ['not a JWT', 'not-a-token'],
      ['empty', ''],
    ];
    for (const [label, token] of forged) expect(await refusal(verifier.verify(token)), label).toBe('bad_signature');
  });

  it('refuses as expired an assertion past its exp, before its nbf, or older than maxAgeSeconds', async () => {
    const verifier = verifierFor();
    expect(await refusal(verifier.verify(await issuer.sign({ iat: now() - 400, nbf: now() - 400, exp: now() - 100 })))).toBe('expired');
    expect(await refusal(verifier.verify(await issuer.sign({ nbf: now() + 120 })))).toBe('expired');
    const twoMinutesOld = await issuer.sign({ iat: now() - 120, nbf: now() - 120 });
    expect(await refusal(verifier.verify(twoMinutesOld, { maxAgeSeconds: 60 }))).toBe('expired');
    expect((await verifier.verify(twoMinutesOld, { maxAgeSeconds: 180 })).sub).toBe('alice');
  });

  it('refuses as wrong_issuer an assertion from another issuer, even signed with the right key', async () => {
    expect(await refusal(verifierFor().verify(await issuer.sign({ iss: 'https://mfa.evil.example' })))).toBe('wrong_issuer');
  });

  it("refuses as wrong_audience another app's assertion, and accepts any audience of a list", async () => {
    const otherApps = await issuer.sign({ aud: 'app-two' });
    expect(await refusal(verifierFor().verify(otherApps))).toBe('wrong_audience');
    expect(await refusal(verifierFor().verify(await issuer.sign({ aud: undefined })))).toBe('wrong_audience');
    expect((await verifierFor({ audience: ['app-one', 'app-two'] }).verify(otherApps)).aud).toBe('app-two');
  });

  it('throws, rather than skipping a check, when nonce or subject is passed without a value or require is misspelt', async () => {
    const token = await issuer.sign({ nonce: 'n-1' });
    const session: { mfaNonce?: string; userId?: string } = {};
    await expect(verifierFor().verify(token, { nonce: session.mfaNonce })).rejects.toBeInstanceOf(TypeError);
    await expect(verifierFor().verify(token, { subject: session.userId })).rejects.toBeInstanceOf(TypeError);
    await expect(verifierFor().verify(token, { nonce: '' })).rejects.toBeInstanceOf(TypeError);
    await expect(verifierFor().verify(token, { require: 'phishing_resistant' as 'any' })).rejects.toBeInstanceOf(TypeError);
  });

  it("refuses as wrong_subject another user's assertion", async () => {
    expect(await refusal(verifierFor().verify(await issuer.sign({ sub: 'mallory' }), { subject: 'alice' }))).toBe('wrong_subject');
  });

  it('refuses as wrong_nonce an assertion for another sign-in, or with no nonce, when a nonce is expected', async () => {
    const verifier = verifierFor();
    expect(await refusal(verifier.verify(await issuer.sign({ nonce: 'other-sign-in' }), { nonce: 'this-sign-in' }))).toBe('wrong_nonce');
    expect(await refusal(verifier.verify(await issuer.sign(), { nonce: 'this-sign-in' }))).toBe('wrong_nonce');
  });

  it('refuses as wrong_type a JWT that is not an MFA assertion, even signed with the same key', async () => {
    const verifier = verifierFor();
    expect(await refusal(verifier.verify(await issuer.sign({}, { typ: 'JWT' })))).toBe('wrong_type');
    expect(await refusal(verifier.verify(await issuer.sign({}, { typ: undefined })))).toBe('wrong_type');
    expect(await refusal(verifier.verify(await issuer.sign({ jti: undefined })))).toBe('wrong_type');
    expect(await refusal(verifier.verify(await issuer.sign({ amr: 'otp' })))).toBe('wrong_type');
    expect((await verifier.verify(await issuer.sign({}, { typ: 'application/mfa+jwt' }))).sub).toBe('alice');
  });

  it("refuses as not_phishing_resistant an assertion without pop when phishing resistance is required", async () => {
    const verifier = verifierFor();
    const otp = await issuer.sign({ amr: ['mfa', 'otp'] });
    expect(await refusal(verifier.verify(otp, { require: 'phishing-resistant' }))).toBe('not_phishing_resistant');
    expect((await verifier.verify(otp, { require: 'any' })).amr).toEqual(['mfa', 'otp']);
    expect((await verifier.verify(await issuer.sign({ amr: ['mfa', 'pop', 'hwk'] }), { require: 'phishing-resistant' })).amr).toContain('pop');
  });

  it('refuses as replayed an assertion accepted once, and a refused attempt does not use it up', async () => {
    const verifier = verifierFor({ replayCache: createMemoryReplayCache() });
    const token = await issuer.sign({ nonce: 'n-1' });
    expect(await refusal(verifier.verify(token, { nonce: 'n-2' }))).toBe('wrong_nonce');
    expect((await verifier.verify(token, { nonce: 'n-1' })).nonce).toBe('n-1');
    expect(await refusal(verifier.verify(token, { nonce: 'n-1' }))).toBe('replayed');
    expect((await verifier.verify(await issuer.sign({ nonce: 'n-1' }), { nonce: 'n-1' })).nonce).toBe('n-1');
  });

  it('without a replay cache, accepts the same assertion again (so the cache above is what refuses)', async () => {
    const verifier = verifierFor();
    const token = await issuer.sign();
    await verifier.verify(token);
    expect((await verifier.verify(token)).sub).toBe('alice');
  });
});

describe('createMfaVerifier: keys', () => {
  it('reads the discovery document and the JWKS once for many verifications', async () => {
    const before = { ...issuer.fetches };
    const verifier = verifierFor();
    await Promise.all([1, 2, 3].map(async () => verifier.verify(await issuer.sign())));
    await verifier.verify(await issuer.sign());
    expect(issuer.fetches.discovery - before.discovery).toBe(1);
    expect(issuer.fetches.jwks - before.jwks).toBe(1);
  });

  it('follows a key rotation: an unknown kid refetches the JWKS once, then verifies', async () => {
    const verifier = verifierFor({ keyRefetchCooldownSeconds: 0 });
    const oldKey = issuer.keys[0]!;
    await verifier.verify(await issuer.sign());
    const jwksBefore = issuer.fetches.jwks;
    const newKey = await newIssuerKey();
    issuer.publish([newKey, oldKey]);
    expect((await verifier.verify(await issuer.sign({}, {}, newKey))).sub).toBe('alice');
    expect(issuer.fetches.jwks - jwksBefore).toBe(1);
    // The retired key is gone after the next rotation: its assertions no longer verify.
    issuer.publish([newKey]);
    const unknown = await issuer.sign({}, {}, await newIssuerKey());
    expect(await refusal(verifier.verify(unknown))).toBe('bad_signature');
    expect(issuer.fetches.jwks - jwksBefore).toBe(2);
    expect(await refusal(verifier.verify(await issuer.sign({}, {}, oldKey)))).toBe('bad_signature');
  });

  it('does not refetch for every made-up kid within the cooldown', async () => {
    const verifier = verifierFor();
    await verifier.verify(await issuer.sign());
    const jwksBefore = issuer.fetches.jwks;
    for (let i = 0; i < 5; i++) expect(await refusal(verifier.verify(await issuer.sign({}, {}, await newIssuerKey())))).toBe('bad_signature');
    expect(issuer.fetches.jwks - jwksBefore).toBeLessThanOrEqual(1);
  });

  it('refuses to use a discovery document that names another issuer', async () => {
    issuer.claimIssuer('https://mfa.evil.example');
    await expect(verifierFor().verify(await issuer.sign())).rejects.toBeInstanceOf(MfaVerifierUnavailableError);
  });

  it('reports an unreachable issuer as unavailable (not as a bad assertion), and recovers when it is back', async () => {
    const token = await issuer.sign();
    let down = true;
    const flaky: typeof fetch = async (input, init) => {
      if (down) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    const verifier = verifierFor({ fetch: flaky });
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(MfaVerifierUnavailableError);
    down = false;
    expect((await verifier.verify(token)).sub).toBe('alice');
  });
});

describe('createMemoryReplayCache', () => {
  it('keeps a jti until the assertion can no longer be accepted, then forgets it', async () => {
    let clock = Date.UTC(2026, 11, 1, 12, 0, 0);
    const cache = createMemoryReplayCache({ now: () => clock });
    const exp = clock / 1000 + 60;
    const jti = randomUUID();
    expect(await cache.claim(jti, exp)).toBe(true);
    expect(await cache.claim(jti, exp)).toBe(false);
    expect(await cache.claim(randomUUID(), exp)).toBe(true);
    clock += 120_000;
    await cache.claim(randomUUID(), clock / 1000 + 60); // sweeps
    // Swept: a verifier refuses the expired assertion before it gets here, so forgetting is safe.
    expect(await cache.claim(jti, exp)).toBe(true);
  });
});
