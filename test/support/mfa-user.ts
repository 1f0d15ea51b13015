import type { LocalStack } from '../../local/local-stack.js';
import { ManualClock } from './fakes.js';
import { jsonRequest } from './raw-http.js';
import { codeAt } from './service.js';

export interface SignedUpUser {
  sub: string;
  /** The first-factor token from the local identity provider. */
  token: string;
  secret: string;
  recoveryCodes: string[];
  /** Steps already used; the next TOTP code must be of a later one. */
  nextStep: number;
}

/** The time right now as a clock: for stacks that run on real time (assertions checked by a real verifier). */
const wallClock = () => new ManualClock(Date.now());

/** A user who turned TOTP on over HTTP, on a local stack running on real time. */
export async function signUpWithTotp(stack: LocalStack, sub: string): Promise<SignedUpUser> {
  const token = await stack.identity.issueToken({ sub, email: `${sub}@example.com` });
  const started = await jsonRequest(stack.port, 'POST', '/v1/mfa/totp/enrollment', token, {});
  if (started.status !== 201) throw new Error(`enrollment failed: ${started.status} ${started.text}`);
  const secret = started.json.secret as string;
  const confirmed = await jsonRequest(stack.port, 'POST', '/v1/mfa/totp/enrollment/confirm', token, { code: codeAt(secret, wallClock()) });
  if (confirmed.status !== 200) throw new Error(`confirmation failed: ${confirmed.status} ${confirmed.text}`);
  return { sub, token, secret, recoveryCodes: confirmed.json.recoveryCodes, nextStep: 1 };
}

/**
 * POST /v1/mfa/verify with the next usable factor (the next TOTP step while the drift window
 * allows it, then recovery codes) and the given nonce; resolves to the assertion.
 */
export async function mfaAssertion(stack: LocalStack, user: SignedUpUser, nonce?: string): Promise<string> {
  const factor = user.nextStep <= 1 ? { code: codeAt(user.secret, wallClock(), user.nextStep++) } : { recoveryCode: user.recoveryCodes.shift()! };
  const verified = await jsonRequest(stack.port, 'POST', '/v1/mfa/verify', user.token, { ...factor, ...(nonce === undefined ? {} : { nonce }) });
  if (verified.status !== 200) throw new Error(`verify failed: ${verified.status} ${verified.text}`);
  return verified.json.assertion as string;
}
