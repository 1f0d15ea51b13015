import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  findRecoveryCodeHash,
  generateRecoveryCodes,
  hashRecoveryCodes,
  normalizeRecoveryCode,
  RECOVERY_CODE_KDF,
} from '../../functions/methods/recovery-codes/recovery-codes.js';
import { cryptoRandom, type RandomSource } from '../../functions/domain/random.js';

describe('recovery codes', () => {
  it('generates 10 distinct codes of four groups of four Crockford base32 characters', () => {
    const codes = generateRecoveryCodes(cryptoRandom);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  });

  it('draws 80 bits from the random source for each code', () => {
    const requests: number[] = [];
    const random: RandomSource = { bytes: (n) => (requests.push(n), new Uint8Array(randomBytes(n))) };
    generateRecoveryCodes(random);
    expect(requests).toEqual(Array(10).fill(10));
  });

  it('encodes all 80 random bits: different inputs give different codes', () => {
    const zeros: RandomSource = { bytes: (n) => new Uint8Array(n) };
    const lastBit: RandomSource = { bytes: (n) => Uint8Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : 0)) };
    expect(generateRecoveryCodes(zeros)[0]).toBe('0000-0000-0000-0000');
    expect(generateRecoveryCodes(lastBit)[0]).toBe('0000-0000-0000-0001');
  });

  it('normalises case, spaces, hyphens and Crockford look-alikes', () => {
    expect(normalizeRecoveryCode('7q2m-kd9x-4hwr-p0za')).toBe('7Q2MKD9X4HWRP0ZA');
    expect(normalizeRecoveryCode(' 7Q2M KD9X 4HWR P0ZA ')).toBe('7Q2MKD9X4HWRP0ZA');
    expect(normalizeRecoveryCode('7Q2MKD9X4HWRPOZA')).toBe('7Q2MKD9X4HWRP0ZA');
    expect(normalizeRecoveryCode('lIlI-0000-0000-0000')).toBe('1111000000000000');
  });

  it('refuses strings that cannot be a code', () => {
    for (const bad of ['', '7Q2M-KD9X-4HWR', '7Q2M-KD9X-4HWR-P0ZA-AAAA', '7Q2M-KD9X-4HWR-P0ZU', '7Q2M_KD9X_4HWR_P0ZA', 'x'.repeat(10_000)]) {
      expect(normalizeRecoveryCode(bad)).toBeNull();
    }
  });

  it('stores self-describing scrypt hashes with a 128-bit salt and no trace of the code', async () => {
    const codes = generateRecoveryCodes(cryptoRandom);
    const hashes = await hashRecoveryCodes(codes, cryptoRandom);
    expect(hashes).toHaveLength(10);
    for (const [i, hash] of hashes.entries()) {
      expect(hash).toMatch(new RegExp(`^scrypt\\$ln=${RECOVERY_CODE_KDF.logN},r=8,p=1\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`));
      expect(hash).not.toContain(normalizeRecoveryCode(codes[i]!));
    }
    expect(new Set(hashes).size).toBe(10);
  });

  it('finds the hash of a typed code in any accepted spelling, and nothing for a wrong one', async () => {
    const codes = generateRecoveryCodes(cryptoRandom);
    const hashes = await hashRecoveryCodes(codes, cryptoRandom);
    expect(await findRecoveryCodeHash(codes[3]!, hashes)).toBe(hashes[3]);
    expect(await findRecoveryCodeHash(codes[7]!.toLowerCase().replace(/-/g, ' '), hashes)).toBe(hashes[7]);
    const other = generateRecoveryCodes(cryptoRandom)[0]!;
    expect(await findRecoveryCodeHash(other, hashes)).toBeNull();
    expect(await findRecoveryCodeHash('not a code', hashes)).toBeNull();
  });

  it('gives sets made with different salts different hashes for the same code', async () => {
    const code = generateRecoveryCodes(cryptoRandom)[0]!;
    const [a] = await hashRecoveryCodes([code], cryptoRandom);
    const [b] = await hashRecoveryCodes([code], cryptoRandom);
    expect(a).not.toBe(b);
    expect(await findRecoveryCodeHash(code, [a!])).toBe(a);
    expect(await findRecoveryCodeHash(code, [b!])).toBe(b);
  });
});
