import type { RouteId } from '../functions/http/routes.js';

/** An AWS API call as IAM names it, e.g. `dynamodb:GetItem`. */
export type AwsCall = `${'dynamodb' | 'kms' | 'ses'}:${string}`;

export interface AwsScenario {
  route: RouteId;
  calls: readonly AwsCall[];
  why: string;
}

/**
 * The fewest AWS calls each operation can make without weakening it. The integration test
 * asserts the measured calls equal these exactly, so one extra call fails `npm test`; the
 * bench prints the measured table next to them.
 */
export const MINIMUM_AWS_CALLS = {
  getOpenIdConfiguration: { route: 'getOpenIdConfiguration', calls: [], why: 'Built from configuration.' },
  'getJwks (first in a container)': { route: 'getJwks', calls: ['kms:GetPublicKey'], why: 'The public key, once per container.' },
  'getJwks (warm)': { route: 'getJwks', calls: [], why: 'The public key is cached for the life of the container.' },
  getMfaStatus: { route: 'getMfaStatus', calls: ['dynamodb:GetItem'], why: 'One item per user.' },
  startTotpEnrollment: {
    route: 'startTotpEnrollment',
    calls: ['kms:Encrypt', 'dynamodb:UpdateItem'],
    why: 'Seal the new secret; one conditional write (refused when TOTP is already on).',
  },
  confirmTotpEnrollment: {
    route: 'confirmTotpEnrollment',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'dynamodb:UpdateItem'],
    why: "Read the pending app first (no room for one more is refused before anything is counted, so a refused request never holds a count, even in flight), count the attempt in the conditional write that reads the pending secret, open the secret to check the code, enable in one conditional write.",
  },
  'verifyMfa (TOTP)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'kms:Decrypt', 'kms:Sign', 'dynamodb:UpdateItem'],
    why: 'Count the attempt before checking the code (so parallel guesses cannot outrun the lockout) in the same conditional write that reads the item, open the secret (never cached across requests), sign the assertion before spending the code, spend it in one conditional write.',
  },
  'verifyMfa (recovery code)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'kms:Sign', 'dynamodb:UpdateItem'],
    why: 'Recovery codes are checked against their hashes: no Decrypt.',
  },
  "verifyMfa (recovery code, a session's first check)": {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'dynamodb:UpdateItem', 'kms:Sign', 'dynamodb:UpdateItem'],
    why: "Recovery-code and key checks are limited per session: a session's first finds no entry of its own (the counting write is refused and returns the item), so a second write makes the entry (dropping idle ones past 32) and counts the check in it and in the user's ceiling. A session that asked for a key challenge has its entry already; so does the one that enrolled.",
  },
  'verifyMfa (wrong code)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'kms:Decrypt'],
    why: 'The attempt is counted (as a failure until proven right) in the write that reads the item, before the code is checked; nothing is signed.',
  },
  'verifyMfa (locked out)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem'],
    why: 'The counting write is refused by the stored lock and returns the item; refused before any KMS call.',
  },
  'regenerateRecoveryCodes (TOTP)': {
    route: 'regenerateRecoveryCodes',
    calls: ['dynamodb:UpdateItem', 'kms:Decrypt', 'dynamodb:UpdateItem'],
    why: 'Count the attempt in the write that reads the item, check the code, replace the set and spend the code in one conditional write.',
  },
  'disableTotp (TOTP)': {
    route: 'disableTotp',
    calls: ['dynamodb:UpdateItem', 'kms:Decrypt', 'dynamodb:UpdateItem'],
    why: 'Count the attempt in the write that reads the item, check the code, remove secret and codes in one conditional write.',
  },
  'startWebAuthnRegistration (first method)': {
    route: 'startWebAuthnRegistration',
    calls: ['dynamodb:UpdateItem'],
    why: 'One conditional write that stores the challenge while MFA is off and keeps (or sets) the user handle, returning it (ReturnValues): nothing to read first, as a user without MFA has no keys to exclude.',
  },
  'startWebAuthnRegistration (TOTP proof)': {
    route: 'startWebAuthnRegistration',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'dynamodb:UpdateItem'],
    why: 'A further key needs a proof: read the item (no room for one more is refused before anything is counted), count the attempt in the write that reads it again, check the code, store the challenge and spend the code in one conditional write.',
  },
  'confirmWebAuthnRegistration (first method)': {
    route: 'confirmWebAuthnRegistration',
    calls: ['dynamodb:GetItem', 'dynamodb:TransactWriteItems(UpdateItem+PutItem)'],
    why: "Read the pending challenge (the attestation is verified against it before anything is written), then one transaction: the conditional write that adds the key, consumes the challenge and stores the first recovery codes, and the put of the credential id's uniqueness item (refused if any user holds it). No KMS: a public key is no secret.",
  },
  startWebAuthnChallenge: {
    route: 'startWebAuthnChallenge',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    why: "Read the user's keys (the options list them); the challenge is minted (a MAC under the user's challenge key), not kept per user. One conditional write records its expiry in the session's own entry (so it replaces that session's earlier ones; the entry made when the session has none), with the user's challenge key on the user's first challenge.",
  },
  'verifyMfa (security key)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'kms:Sign', 'dynamodb:UpdateItem'],
    why: "Count the check in the session's rate window and the user's ceiling in the write that reads the item, verify the signature with the stored public key (no Decrypt), sign, then spend the challenge (its nonce joins the spent ones, only if not there yet) and move the counter by compare-and-swap.",
  },
  adminGetMfaStatus: {
    route: 'adminGetMfaStatus',
    calls: ['dynamodb:GetItem'],
    why: 'One item per user.',
  },
  adminUnlockMfa: {
    route: 'adminUnlockMfa',
    calls: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
    why: 'One conditional write (the user exists) that clears the lock and records the event, then the status it answers with.',
  },
  adminResetMfa: {
    route: 'adminResetMfa',
    calls: ['dynamodb:GetItem', 'dynamodb:TransactWriteItems(UpdateItem+DeleteItem)'],
    why: "Read the authenticators and remembered browsers (each browser gets its forgotten event; a key's uniqueness item goes with it), then one transaction: the conditional write that removes every factor, code and browser (while the authenticators are still those read) and records the events, with the delete of each key's uniqueness item; the answer is the state that write left.",
  },
  'verifyMfa (TOTP, remember this browser)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'kms:Decrypt', 'kms:Sign', 'dynamodb:UpdateItem'],
    why: "As a TOTP sign-in: the browser's public key is stored by the same conditional write that spends the code (no call of its own).",
  },
  startDeviceChallenge: {
    route: 'startDeviceChallenge',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    why: "Read the browser (unknown, expired or another app's is 404 with nothing written), then store the session's challenge while the browser is still remembered.",
  },
  'verifyMfa (remembered browser)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'kms:Sign', 'dynamodb:UpdateItem'],
    why: "Count the check in the write that reads the item, verify the P-256 signature with the stored public key (no Decrypt), sign, then consume the session's challenge.",
  },
  forgetDevice: {
    route: 'forgetDevice',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    why: 'Read the browsers (404 for an unknown one), then one conditional write that forgets it with its event.',
  },
  forgetAllDevices: {
    route: 'forgetAllDevices',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    why: 'Read the browsers (one event each), then one conditional write that forgets them all; none to forget: the read only.',
  },
  'startWebAuthnChallenge (no security key)': {
    route: 'startWebAuthnChallenge',
    calls: ['dynamodb:GetItem'],
    why: 'One read shows the user has no key: refused, nothing written.',
  },
  renameAuthenticator: {
    route: 'renameAuthenticator',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    why: "Read the authenticator (its kind names the change event, recorded in the same write as the new name), then one conditional write.",
  },
  'removeAuthenticator (security key)': {
    route: 'removeAuthenticator',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:TransactWriteItems(UpdateItem+DeleteItem)'],
    why: "Read the item (a method that is not there is refused before anything is counted, so that a refused request never holds a count, even in flight, that could make another request's wrong guess start a lock), count the check in the write that reads it again, verify the key's own assertion, then one transaction: the conditional write that spends the challenge and removes the key (the last: with the recovery codes), and the delete of its credential id's uniqueness item.",
  },
  'removeAuthenticator (TOTP)': {
    route: 'removeAuthenticator',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'dynamodb:UpdateItem'],
    why: 'As with a key: read the item (the method must be there before anything is counted), count the attempt in the write that reads it again, check the code, remove the authenticator (and, for the last, the recovery codes) in one conditional write.',
  },
  'startEmailEnrollment (first method)': {
    route: 'startEmailEnrollment',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Encrypt', 'ses:SendEmail', 'dynamodb:UpdateItem'],
    why: "Read the send window, count this mail in it by a conditional write before anything leaves (parallel requests cannot outrun the limit), seal the code's hash key, send, then store the hash: a code is stored only once its mail left.",
  },
  confirmEmailEnrollment: {
    route: 'confirmEmailEnrollment',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'dynamodb:UpdateItem'],
    why: "Read the item (email codes already on, no setup code of this session's still good, or no room: refused before anything is counted), count the attempt in the code lock in the write that reads the pending code, open its hash key, add the method (consuming the code) in one conditional write.",
  },
  startEmailChallenge: {
    route: 'startEmailChallenge',
    calls: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Encrypt', 'ses:SendEmail', 'dynamodb:UpdateItem'],
    why: 'As the enrollment: read the method and the send window, count the send, seal the key, send, store the hash for this session.',
  },
  'verifyMfa (email code)': {
    route: 'verifyMfa',
    calls: ['dynamodb:UpdateItem', 'kms:Decrypt', 'kms:Sign', 'dynamodb:UpdateItem'],
    why: "As a TOTP code: count the attempt in the write that reads the item, open the code's hash key, sign, consume the code in one conditional write.",
  },
} as const satisfies Record<string, AwsScenario>;

export type ScenarioName = keyof typeof MINIMUM_AWS_CALLS;
