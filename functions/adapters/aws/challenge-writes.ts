import { spentChallengesToDrop } from '../../methods/webauthn/challenges.js';
import type { Proof } from '../../ports/mfa-store.js';
import type { Write } from './item-write.js';
import { ATTR, num } from './mfa-item.js';

/**
 * The clause of a key check's write that spends its challenge: the nonce joins the user's spent
 * challenges until the challenge expires, only if it is not there yet (so no challenge is
 * answered twice, however many copies of a response arrive at once), and a bounded number of
 * entries that had expired (beyond the clocks' drift) when the item was read are dropped, so the
 * map holds little more than live challenges and the write's expression stays small.
 */
export function spendChallenge(w: Write, proof: Extract<Proof, { kind: 'webauthn' }>): void {
  const expiresAt = num(proof.challengeExpiresAt);
  if (proof.spentRead === undefined) {
    w.set.push(`${ATTR.spentChallenges} = ${w.value(':spentChallenges', { M: { [proof.challengeNonce]: expiresAt } })}`);
    w.conditions.push(`attribute_not_exists(${ATTR.spentChallenges})`);
    return;
  }
  const entry = w.key(ATTR.spentChallenges, proof.challengeNonce);
  w.set.push(`${entry} = ${w.value(':challengeExpiresAt', expiresAt)}`);
  // The map must still be there (a removal of every key drops it) for its entry to be written.
  w.conditions.push(`attribute_exists(${ATTR.spentChallenges})`, `attribute_not_exists(${entry})`);
  for (const nonce of spentChallengesToDrop(proof.spentRead, w.now)) {
    if (nonce !== proof.challengeNonce) w.remove.push(w.key(ATTR.spentChallenges, nonce));
  }
}
