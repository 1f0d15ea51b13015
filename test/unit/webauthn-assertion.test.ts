import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { verifyAssertion } from '../../functions/methods/webauthn/assertion.js';
import { SoftwareAuthenticator, type ResponseKnobs, type SoftwareKeyAlgorithm } from '../../harness/software-authenticator.js';

const RP = { rpId: 'localhost', origins: ['http://localhost:3000'] };
const CHALLENGE = Buffer.alloc(32, 7).toString('base64url');

/** What the library answers for the same assertion, key and expectations (what verifyAssertion must answer). */
async function libraryVerdict(response: AuthenticationResponseJSON, key: SoftwareAuthenticator, publicKey: Uint8Array) {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: CHALLENGE,
      expectedOrigin: [...RP.origins],
      expectedRPID: RP.rpId,
      credential: { id: key.credentialId, publicKey: publicKey as Uint8Array<ArrayBuffer>, counter: 0 },
      requireUserVerification: false,
    });
    const { newCounter, credentialDeviceType, credentialBackedUp } = result.authenticationInfo;
    return result.verified ? { newCounter, credentialDeviceType, credentialBackedUp } : null;
  } catch {
    return null;
  }
}

/** Responses an honest key sends, and every way the tests' software key can bend one. */
const VARIANTS: Record<string, { knobs?: ResponseKnobs; edit?: (response: AuthenticationResponseJSON) => AuthenticationResponseJSON }> = {
  'an honest response': {},
  'user verified': { knobs: { flags: { uv: true } } },
  'a synced passkey (BE and BS)': { knobs: { flags: { be: true, bs: true } } },
  'backup eligible, not backed up': { knobs: { flags: { be: true, bs: false } } },
  'backed up without backup eligibility': { knobs: { flags: { be: false, bs: true } } },
  'the user not present': { knobs: { flags: { up: false } } },
  'another challenge': { knobs: { challenge: Buffer.alloc(32, 8).toString('base64url') } },
  'another origin': { knobs: { origin: 'https://evil.example' } },
  'another relying party': { knobs: { rpId: 'evil.example' } },
  'a registration type': { knobs: { type: 'webauthn.create' } },
  'a bad signature': { knobs: { badSignature: true } },
  'cross-origin without a top origin': { knobs: { crossOrigin: true } },
  'counter zero': { knobs: { counter: 0 } },
  'a large counter': { knobs: { counter: 0xfffffff0 } },
  'a top origin': { edit: (r) => withClientData(r, (data) => ({ ...data, topOrigin: 'https://top.example' })) },
  'a token binding of an unknown status': { edit: (r) => withClientData(r, (data) => ({ ...data, tokenBinding: { status: 'odd' } })) },
  'a token binding that is present': { edit: (r) => withClientData(r, (data) => ({ ...data, tokenBinding: { status: 'present' } })) },
  'client data that is not JSON': { edit: (r) => ({ ...r, response: { ...r.response, clientDataJSON: Buffer.from('{not json').toString('base64url') } }) },
  'authenticator data too short': { edit: (r) => ({ ...r, response: { ...r.response, authenticatorData: Buffer.alloc(20).toString('base64url') } }) },
  'an empty signature': { edit: (r) => ({ ...r, response: { ...r.response, signature: '' } }) },
  'a signature that is not base64url': { edit: (r) => ({ ...r, response: { ...r.response, signature: 'a+b/' } }) },
  'id and rawId that differ': { knobs: { rawId: Buffer.alloc(32, 1).toString('base64url') } },
  'another credential type': { knobs: { credentialType: 'password' } },
};

/** The same response with its client data changed (the signature then no longer covers it, as for a tampered response). */
function withClientData(response: AuthenticationResponseJSON, change: (data: Record<string, unknown>) => Record<string, unknown>): AuthenticationResponseJSON {
  const data = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { ...response, response: { ...response.response, clientDataJSON: Buffer.from(JSON.stringify(change(data))).toString('base64url') } };
}

describe('verifyAssertion', () => {
  for (const algorithm of ['ES256', 'EdDSA'] as SoftwareKeyAlgorithm[]) {
    it.each(Object.keys(VARIANTS))(`${algorithm}: answers as the library does for %s`, async (name) => {
      const { knobs, edit } = VARIANTS[name]!;
      const key = new SoftwareAuthenticator({ algorithm });
      const publicKey = key.coseKey();
      const response = (edit ?? ((r) => r))(key.assert({ challenge: CHALLENGE, rpId: RP.rpId }, knobs));
      const ours = await verifyAssertion(response, { challenge: CHALLENGE, ...RP }, { id: key.credentialId, publicKey });
      expect(ours).toEqual(await libraryVerdict(response, key, publicKey));
      if (name === 'an honest response') expect(ours).not.toBeNull();
    });
  }

  it("refuses a response signed by another key for the credential, even once the right key's parse is cached", async () => {
    const key = new SoftwareAuthenticator();
    const impostor = new SoftwareAuthenticator({ credentialId: key.credentialIdBytes });
    const expected = { challenge: CHALLENGE, ...RP };
    expect(await verifyAssertion(key.assert({ challenge: CHALLENGE }), expected, { id: key.credentialId, publicKey: key.coseKey() })).not.toBeNull();
    expect(await verifyAssertion(impostor.assert({ challenge: CHALLENGE }), expected, { id: key.credentialId, publicKey: key.coseKey() })).toBeNull();
    // The same credential id stored with another key (re-registered): the cache follows the stored key.
    expect(await verifyAssertion(impostor.assert({ challenge: CHALLENGE }), expected, { id: key.credentialId, publicKey: impostor.coseKey() })).not.toBeNull();
  });
});
