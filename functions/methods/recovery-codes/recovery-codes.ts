import { scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { RandomSource } from '../../domain/random.js';

/**
 * Recovery codes: 10 per set, 80 bits each from a CSPRNG, shown as Crockford base32 in
 * four groups (`7Q2M-KD9X-4HWR-P0ZA`). Stored only as scrypt hashes.
 *
 * One random salt is drawn per set and recorded in every hash of the set, so checking a
 * code costs one KDF evaluation instead of ten. The salt still defeats precomputation
 * across users and sets; each code carries 80 bits of entropy, so the KDF is a second line
 * of defence for a leaked table, not the first.
 */
export const RECOVERY_CODES_PER_SET = 10;
export const RECOVERY_CODE_BYTES = 10; // 80 bits
const RECOVERY_CODE_LENGTH = 16; // 80 bits / 5 bits per base32 character
const GROUP_LENGTH = 4;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** scrypt cost: 2^14 x 8 x 128 B = 16 MiB per evaluation (memory-hard), about 30-50 ms. */
export const RECOVERY_CODE_KDF = { logN: 14, r: 8, p: 1 } as const;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CROCKFORD_ALIASES: Record<string, string> = { O: '0', I: '1', L: '1' };

export interface KdfParameters {
  logN: number;
  r: number;
  p: number;
}

export function generateRecoveryCodes(random: RandomSource): string[] {
  return Array.from({ length: RECOVERY_CODES_PER_SET }, () => formatRecoveryCode(encodeCrockford(random.bytes(RECOVERY_CODE_BYTES))));
}

function encodeCrockford(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

function formatRecoveryCode(normalized: string): string {
  return normalized.match(new RegExp(`.{1,${GROUP_LENGTH}}`, 'g'))!.join('-');
}

/**
 * Canonical form of what a person typed: case-insensitive, spaces and hyphens ignored,
 * and Crockford's look-alikes (O for 0, I and L for 1) accepted. Null when it cannot be a code.
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 64) return null;
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  let normalized = '';
  for (const char of compact) {
    const mapped = CROCKFORD_ALIASES[char] ?? char;
    if (!CROCKFORD.includes(mapped)) return null;
    normalized += mapped;
  }
  return normalized.length === RECOVERY_CODE_LENGTH ? normalized : null;
}

function scrypt(input: string, salt: Buffer, params: KdfParameters): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) =>
    scryptCallback(input, salt, HASH_BYTES, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/**
 * Self-describing hash string: `scrypt$ln=14,r=8,p=1$<salt>$<hash>` (base64url, PHC-like),
 * so parameters can be raised later without invalidating existing sets.
 */
function encodeHash(params: KdfParameters, salt: Buffer, hash: Buffer): string {
  return `scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

interface ParsedHash {
  params: KdfParameters;
  salt: Buffer;
  hash: Buffer;
}

function parseHash(encoded: string): ParsedHash | null {
  const match = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(encoded);
  if (!match) return null;
  const [, logN, r, p, salt, hash] = match;
  return {
    params: { logN: Number(logN), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt!, 'base64url'),
    hash: Buffer.from(hash!, 'base64url'),
  };
}

/** Hashes a whole set with one fresh salt. Input codes may be in display form. */
export async function hashRecoveryCodes(codes: string[], random: RandomSource, params: KdfParameters = RECOVERY_CODE_KDF): Promise<string[]> {
  const salt = Buffer.from(random.bytes(SALT_BYTES));
  return Promise.all(
    codes.map(async (code) => {
      const normalized = normalizeRecoveryCode(code);
      if (normalized === null) throw new Error('Not a recovery code.');
      return encodeHash(params, salt, await scrypt(normalized, salt, params));
    }),
  );
}

/**
 * The stored hash entry matching `input`, or null. Costs one KDF evaluation per distinct
 * salt in the set (one for sets made by hashRecoveryCodes); comparisons are constant-time.
 * `derivedBySalt` lets a caller that re-checks the same input against a re-read set reuse
 * the derivation; it must only ever hold derivations of this one input.
 */
export async function findRecoveryCodeHash(
  input: string,
  storedHashes: readonly string[],
  derivedBySalt: Map<string, Promise<Buffer>> = new Map(),
): Promise<string | null> {
  const normalized = normalizeRecoveryCode(input);
  if (normalized === null) return null;
  const parsed = storedHashes.map((entry) => ({ entry, parsed: parseHash(entry) }));
  let found: string | null = null;
  for (const { entry, parsed: hash } of parsed) {
    if (!hash) continue;
    const key = `${hash.salt.toString('base64url')}|${hash.params.logN}|${hash.params.r}|${hash.params.p}`;
    let derived = derivedBySalt.get(key);
    if (!derived) {
      derived = scrypt(normalized, hash.salt, hash.params);
      derivedBySalt.set(key, derived);
    }
    const candidate = await derived;
    if (candidate.length === hash.hash.length && timingSafeEqual(candidate, hash.hash) && found === null) found = entry;
  }
  return found;
}
