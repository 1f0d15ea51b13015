import { describe, expect, it } from 'vitest';
import {
  buildOtpauthUri,
  generateTotpCode,
  generateTotpSecret,
  matchTotpStep,
  stepAt,
  toBase32,
  TOTP_SECRET_BYTES,
} from '../../functions/methods/totp/totp.js';
import type { RandomSource } from '../../functions/domain/random.js';

/** RFC 6238 appendix B / RFC 4226 appendix D: the SHA-1 seed "12345678901234567890". */
const RFC_SECRET = new TextEncoder().encode('12345678901234567890');

describe('TOTP', () => {
  it('produces the RFC 4226 HOTP values for counters 0 to 9 (30-second steps)', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    const actual = expected.map((_, counter) => generateTotpCode(RFC_SECRET, counter * 30_000));
    expect(actual).toEqual(expected);
  });

  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
    [20000000000, '353130'],
  ])('matches the RFC 6238 SHA-1 vector at T=%i (last 6 digits)', (seconds, code) => {
    expect(generateTotpCode(RFC_SECRET, seconds * 1000)).toBe(code);
    expect(matchTotpStep(RFC_SECRET, code, seconds * 1000)).toBe(Math.floor(seconds / 30));
  });

  it('accepts the previous and next step for clock drift, and nothing further', () => {
    const now = 1_800_000_000_000;
    const step = stepAt(now);
    for (const offset of [-1, 0, 1]) {
      const code = generateTotpCode(RFC_SECRET, now + offset * 30_000);
      expect(matchTotpStep(RFC_SECRET, code, now)).toBe(step + offset);
    }
    for (const offset of [-3, -2, 2, 3]) {
      const code = generateTotpCode(RFC_SECRET, now + offset * 30_000);
      expect(matchTotpStep(RFC_SECRET, code, now)).toBeNull();
    }
  });

  it('ignores spaces inside a code but refuses anything that is not six digits', () => {
    const now = 1_800_000_000_000;
    const code = generateTotpCode(RFC_SECRET, now);
    expect(matchTotpStep(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, now)).toBe(stepAt(now));
    for (const bad of ['', '12345', '1234567', 'abcdef', `${code}0`, `-${code.slice(1)}`, '１２３４５６']) {
      expect(matchTotpStep(RFC_SECRET, bad, now)).toBeNull();
    }
  });

  it('draws a 160-bit secret from the random source', () => {
    const calls: number[] = [];
    const random: RandomSource = { bytes: (n) => (calls.push(n), new Uint8Array(n).fill(7)) };
    const secret = generateTotpSecret(random);
    expect(calls).toEqual([TOTP_SECRET_BYTES]);
    expect(secret).toHaveLength(20);
  });

  it('encodes the secret as unpadded RFC 4648 base32', () => {
    expect(toBase32(RFC_SECRET)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(toBase32(new Uint8Array([0xff]))).toBe('74');
  });

  it('builds an otpauth URI with an Issuer:account label and a matching issuer parameter', () => {
    const uri = new URL(buildOtpauthUri(RFC_SECRET, 'Acme Corp', 'alice@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Acme Corp:alice@example.com');
    expect(uri.searchParams.get('issuer')).toBe('Acme Corp');
    expect(uri.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });
});
