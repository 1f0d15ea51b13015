import { createHash } from 'node:crypto';
import { MFA_ASSERTION_TYPE } from '../../verifier/assertion-type.js';

/** Helpers for building a compact JWS whose signature is computed elsewhere (KMS). */
export const base64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');

/** The protected header of every MFA assertion; its `typ` is what the verifier (verifier/) requires. */
export function assertionHeader(kid: string): Record<string, string> {
  return { alg: 'ES256', typ: MFA_ASSERTION_TYPE, kid };
}

export function signingInput(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
}

/** A stable, non-secret key id derived from a key's identifier. */
export function keyIdFor(identifier: string): string {
  return createHash('sha256').update(identifier).digest('base64url').slice(0, 22);
}

/**
 * Converts an ASN.1 DER ECDSA signature (what KMS returns) to the fixed-size r||s form
 * that JWS ES256 requires (RFC 7518 section 3.4).
 */
export function derToJoseSignature(der: Uint8Array, size = 32): Uint8Array {
  let offset = 0;
  const expect = (tag: number) => {
    if (der[offset++] !== tag) throw new Error('Malformed DER signature.');
  };
  const readLength = (): number => {
    let length = der[offset++]!;
    if (length & 0x80) {
      const bytes = length & 0x7f;
      length = 0;
      for (let i = 0; i < bytes; i++) length = (length << 8) | der[offset++]!;
    }
    return length;
  };
  const readInteger = (): Uint8Array => {
    expect(0x02);
    const length = readLength();
    let value = der.subarray(offset, offset + length);
    offset += length;
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw new Error('Malformed DER signature.');
    const padded = new Uint8Array(size);
    padded.set(value, size - value.length);
    return padded;
  };
  expect(0x30);
  readLength();
  const r = readInteger();
  const s = readInteger();
  const out = new Uint8Array(size * 2);
  out.set(r, 0);
  out.set(s, size);
  return out;
}
