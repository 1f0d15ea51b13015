import { describe, expect, it } from 'vitest';
import type { MfaRecord, RememberedDevice } from '../../functions/domain/mfa-record.js';
import { challengesToDrop, devicePublicKeyOf, devicesToForget, isDeviceSignature, proveDevice } from '../../functions/methods/device/device.js';
import { DeviceKey } from '../../harness/device-key.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const record = (extra: Partial<MfaRecord> = {}): MfaRecord => ({ userId: 'u', authenticators: [], recoveryCodeHashes: [], failures: 0, legacy: false, ...extra });
const device = (id: string, createdAt: number, key = new DeviceKey(), expiresAt = NOW + 1000): RememberedDevice => ({
  id,
  name: 'Browser',
  app: 'app',
  publicKey: { x: key.publicJwk.x, y: key.publicJwk.y },
  createdAt,
  expiresAt,
  authTime: createdAt,
});

describe('remembered browsers: the device method', () => {
  it('takes an ES256 public JWK and refuses a private one, another curve or type, and a point off the curve', () => {
    const key = new DeviceKey();
    expect(devicePublicKeyOf(key.publicJwk)).toEqual({ x: key.publicJwk.x, y: key.publicJwk.y });
    expect(devicePublicKeyOf(key.privateJwk())).toBeNull();
    expect(devicePublicKeyOf({ ...key.publicJwk, crv: 'P-384' })).toBeNull();
    expect(devicePublicKeyOf({ ...key.publicJwk, kty: 'OKP' })).toBeNull();
    expect(devicePublicKeyOf({ ...key.publicJwk, y: key.publicJwk.x })).toBeNull();
    expect(devicePublicKeyOf({ ...key.publicJwk, x: `${key.publicJwk.x}A` })).toBeNull();
  });

  it('checks a 64-byte P1363 signature over the challenge bytes, and nothing else', () => {
    const key = new DeviceKey();
    const publicKey = devicePublicKeyOf(key.publicJwk)!;
    const signature = key.sign('challenge-1');
    expect(isDeviceSignature(publicKey, 'challenge-1', signature)).toBe(true);
    expect(isDeviceSignature(publicKey, 'challenge-2', signature)).toBe(false);
    expect(isDeviceSignature(publicKey, 'challenge-1', new DeviceKey().sign('challenge-1'))).toBe(false);
    expect(isDeviceSignature(publicKey, 'challenge-1', Buffer.from(signature, 'base64url').subarray(0, 63).toString('base64url'))).toBe(false);
    expect(isDeviceSignature(publicKey, 'challenge-1', `${signature}=`)).toBe(false);
  });

  it("proves only with the session's pending challenge, for that device and app, unexpired", () => {
    const key = new DeviceKey();
    const pending = { sessionId: 's1', deviceId: 'd1', app: 'app', challenge: 'c1', expiresAt: NOW + 1 };
    const stored = record({ devices: [device('d1', NOW - 10, key)], deviceChallenges: [pending] });
    const input = { id: 'd1', challenge: 'c1', signature: key.sign('c1') };
    expect(proveDevice(stored, input, { sessionId: 's1', app: 'app' }, NOW)).toEqual({
      proof: { kind: 'device', deviceId: 'd1', sessionId: 's1', challenge: 'c1', authTime: NOW - 10 },
    });
    expect(proveDevice(stored, input, { sessionId: 's2', app: 'app' }, NOW)).toEqual({ refused: 'wrong' });
    expect(proveDevice(stored, input, { sessionId: 's1', app: 'other' }, NOW)).toEqual({ refused: 'wrong' });
    expect(proveDevice(stored, input, { sessionId: 's1', app: 'app' }, NOW + 1)).toEqual({ refused: 'wrong' });
    expect(proveDevice(stored, { ...input, challenge: 'c0', signature: key.sign('c0') }, { sessionId: 's1', app: 'app' }, NOW)).toEqual({ refused: 'wrong' });
  });

  it('forgets the expired and then the oldest so that 19 remain before one more is remembered', () => {
    const devices = Array.from({ length: 20 }, (_, i) => device(`d${i}`, NOW - 100 + i));
    devices[5] = { ...devices[5]!, expiresAt: NOW };
    expect(devicesToForget(record({ devices }), NOW)).toEqual([
      { id: 'd5', reason: 'expired' },
    ]);
    const full = Array.from({ length: 20 }, (_, i) => device(`d${i}`, NOW - 100 + i));
    expect(devicesToForget(record({ devices: full }), NOW)).toEqual([{ id: 'd0', reason: 'limit_reached' }]);
    expect(devicesToForget(record({ devices: full.slice(0, 19) }), NOW)).toEqual([]);
  });

  it('keeps at most 5 pending device challenges: expired ones and the oldest go, a session replaces its own', () => {
    const pending = (sessionId: string, expiresAt: number) => ({ sessionId, deviceId: 'd', app: 'app', challenge: sessionId, expiresAt });
    const five = ['a', 'b', 'c', 'd', 'e'].map((session, i) => pending(session, NOW + 10 + i));
    expect(challengesToDrop(record({ deviceChallenges: five }), 'f', NOW)).toEqual(['a']);
    expect(challengesToDrop(record({ deviceChallenges: five }), 'c', NOW)).toEqual([]);
    expect(challengesToDrop(record({ deviceChallenges: [pending('x', NOW), pending('y', NOW + 5)] }), 'z', NOW)).toEqual(['x']);
  });
});
