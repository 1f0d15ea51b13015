/**
 * `npm run bench:webauthn-proof`: where a key verification's own time goes. Times the service's
 * check of one assertion (`proveWebAuthn`: the library's parsers and checks on node:crypto, functions/methods/webauthn/assertion.ts)
 * against the ES256 signature check alone (node:crypto), over assertions of a software key.
 */
import { createHash, randomBytes, verify } from 'node:crypto';
import type { MfaRecord } from '../functions/domain/mfa-record.js';
import { CHALLENGE_KEY_BYTES, CHALLENGE_NONCE_BYTES, mintChallenge } from '../functions/methods/webauthn/challenges.js';
import { proveWebAuthn, verifyRegistration, type RelyingParty } from '../functions/methods/webauthn/webauthn.js';
import { SoftwareAuthenticator } from '../harness/software-authenticator.js';
import { median } from './stats.js';

const SAMPLES = 500;
const WARMUP = 100;
const rp: RelyingParty = { id: 'localhost', name: 'bench', origins: ['http://localhost:3000'] };
const key = new SoftwareAuthenticator();
const registrationChallenge = Buffer.alloc(32, 1).toString('base64url');
const registered = await verifyRegistration(rp, key.register({ challenge: registrationChallenge, rp: { id: 'localhost' } }), registrationChallenge);
if (!registered) throw new Error('the software key did not register');

const library: number[] = [];
const signatureOnly: number[] = [];
const challengeKey = randomBytes(CHALLENGE_KEY_BYTES);
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  const challenge = mintChallenge(challengeKey, { userId: 'bench', sessionId: 'bench' }, randomBytes(CHALLENGE_NONCE_BYTES), Date.now() + 60_000);
  const record: MfaRecord = {
    userId: 'bench',
    authenticators: [{ id: 'key', kind: 'webauthn', name: 'key', createdAt: 0, ...registered, counter: key.counter }],
    webauthnChallengeKey: challengeKey,
    recoveryCodeHashes: [],
    failures: 0,
    legacy: false,
  };
  const response = key.assert({ challenge, rpId: rp.id });
  let started = performance.now();
  const evaluation = await proveWebAuthn(rp, record, response, Date.now(), 'bench');
  const libraryMs = performance.now() - started;
  if (!('proof' in evaluation)) throw new Error(`a good assertion was refused: ${evaluation.refused}`);
  const signed = Buffer.concat([
    Buffer.from(response.response.authenticatorData, 'base64url'),
    createHash('sha256').update(Buffer.from(response.response.clientDataJSON, 'base64url')).digest(),
  ]);
  started = performance.now();
  if (!verify('sha256', signed, key.publicKey, Buffer.from(response.response.signature, 'base64url'))) throw new Error('bad signature');
  const signatureMs = performance.now() - started;
  if (i >= WARMUP) {
    library.push(libraryMs);
    signatureOnly.push(signatureMs);
  }
}
console.log(
  `webauthn proof on Node ${process.version}, ${SAMPLES} assertions (median): proveWebAuthn ${median(library).toFixed(3)} ms, ` +
    `the ES256 signature check alone ${median(signatureOnly).toFixed(3)} ms`,
);
