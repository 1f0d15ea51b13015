import { randomInt } from 'node:crypto';
import type { ChangeEvent } from '../domain/change-events.js';
import { ContentionError, InvalidCodeError, InvalidCredentialError, TooManyAttemptsError } from '../domain/errors.js';
import {
  countAttempt,
  countProofAttempt,
  isLocked,
  proofAttemptTime,
  proofRetryAfterSeconds,
  PROOF_TIME_FRACTIONS,
  quietAttemptGuard,
  quietProofGuard,
  retryAfterSeconds,
  type AttemptLane,
  type CountedAttempt,
} from '../domain/lockout.js';
import { authenticatorsOf, type MfaRecord } from '../domain/mfa-record.js';
import type { Evaluation } from '../methods/evaluation.js';
import { proveRecoveryCode } from '../methods/recovery-codes/recovery-code-proof.js';
import { proveEmailCode } from '../methods/email/email-proof.js';
import { provePendingTotpCode, proveTotpCode } from '../methods/totp/totp-proof.js';
import { proveWebAuthn } from '../methods/webauthn/webauthn.js';
import type { AuditEventName } from '../ports/audit-log.js';
import type { AttemptRequires, MfaStore, Proof, WriteResult } from '../ports/mfa-store.js';
import { audit, emailCodeSealContextOf, methodOf, sealContextOf, type Actor, type MfaServiceDeps, type SecondFactor, originOf } from './context.js';

/** Optimistic rounds before a request gives up under contention (each round re-reads). */
const MAX_ROUNDS = 16;
/**
 * Real time an attempt may take before it stops starting writes: well inside the functions'
 * 10 s timeout. A request that runs into the timeout has been answered 503 by then while its
 * work goes on (in Lambda, at the next thaw); a write started after that would change state
 * behind an error the client already holds.
 */
const ATTEMPT_BUDGET_MS = 7_000;

export type Operation = 'confirm' | 'verify' | 'regenerate' | 'disable' | 'remove' | 'enroll' | 'register';

export interface AttemptPlan<T> {
  operation: Operation;
  /** What the item must hold for the attempt to count: MFA on, or a pending app being set up. */
  requires: AttemptRequires;
  /** Throws when the operation does not apply to the stored state at all (404/409). */
  precondition(record: MfaRecord | undefined, now: number): asserts record is MfaRecord;
  /** Writes the consumed proof and the operation's effect in one conditional write, through `store`. */
  commit(record: MfaRecord, proof: Proof, now: number, store: MfaStore): Promise<{ result: WriteResult; value?: T }>;
}

export interface Attempted<T> {
  record: MfaRecord;
  proof: Proof;
  value?: T | undefined;
}

/** Guessable codes (an app's, or one sent by email) share the per-user code lock. */
const laneOf = (factor: SecondFactor): AttemptLane => ('code' in factor || 'emailCode' in factor ? 'code' : 'proof');

/**
 * The attempt engine: every proof of a factor goes through `run`. It counts the attempt
 * before evaluating it, by a write that refuses to count past the limit of its lane (codes:
 * the lockout; recovery codes and keys: the rate limit), evaluates the proof against the state
 * it read, and commits with a conditional write that re-checks that state; on a conflict it
 * re-reads and evaluates again (the attempt stays counted once).
 */
export class AttemptEngine {
  constructor(private readonly deps: Pick<MfaServiceDeps, 'store' | 'sealer' | 'audit' | 'clock' | 'settings'>) {}

  async run<T>(actor: Actor, factor: SecondFactor, plan: AttemptPlan<T>): Promise<Attempted<T>> {
    const { clock } = this.deps;
    const store = writingUntil(this.deps.store, performance.now() + ATTEMPT_BUDGET_MS);
    const lane = laneOf(factor);
    const caches = { secrets: new Map<string, Promise<Uint8Array>>(), kdf: new Map<string, Promise<Buffer>>() };
    let counted: CountedAttempt | undefined;
    /** A recovery-code or key check: the time it was counted at in the sliding window. */
    let proofAt: number | undefined;
    let isCounted = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = clock.now();
      let record: MfaRecord | undefined;
      if (isCounted) {
        record = await store.get(actor.userId);
        plan.precondition(record, now);
      } else {
        const count = await this.count(actor, store, lane, plan, now);
        if (!count) continue;
        ({ record, counted, proofAt } = count);
        isCounted = true;
      }
      if (record.legacy) {
        if ((await store.migrateLegacy(record, now)) === 'conflict') continue;
        record = { ...record, legacy: false };
      }
      const evaluation = await this.evaluate(actor, record, factor, plan, now, caches);
      if ('proof' in evaluation) {
        const { result, value } = await plan.commit(record, evaluation.proof, now, store);
        if (result === 'ok') return { record, proof: evaluation.proof, value };
        continue;
      }
      const method = methodOf(factor);
      if (evaluation.refused === 'spent') {
        // A right code (or key response) already used: no guess, so its attempt is given back.
        // The replayed-code signal rides on the refund's write (a failure path: no call of its own on success).
        const signal: ChangeEvent[] = [{ event: 'code.replay_refused', ...originOf(actor), method }];
        if (counted) await store.refundCodeAttempt(actor.userId, counted, now, signal);
        if (proofAt !== undefined) await store.refundProofAttempt(actor.userId, proofAt, now, record.proofTimes, signal);
        audit(this.deps, actor, 'mfa.code.replay_refused', 'refused', { method, operation: plan.operation });
        throw method === 'webauthn' ? new InvalidCredentialError() : new InvalidCodeError();
      }
      if (evaluation.refused === 'counter_regression') {
        audit(this.deps, actor, 'mfa.webauthn.counter_regression', 'refused', { method, operation: plan.operation });
      }
      audit(this.deps, actor, failureEvent(plan.operation), 'failure', { method, operation: plan.operation, ...(counted ? { failures: counted.failures } : {}) });
      if (counted?.lockedUntil !== undefined) {
        audit(this.deps, actor, 'mfa.lockout.started', 'refused', { failures: counted.failures, lockedUntil: new Date(counted.lockedUntil).toISOString() });
      }
      throw method === 'webauthn' ? new InvalidCredentialError() : new InvalidCodeError();
    }
    throw new ContentionError();
  }

  /**
   * Counts one attempt in its lane, or returns null when another request counted first.
   * Usually the count is plain arithmetic and the store does it in the write that reads the
   * record (one call); when it would start a lock or a new window, it is decided here and
   * written conditionally.
   */
  private async count(
    actor: Actor,
    store: MfaStore,
    lane: AttemptLane,
    plan: AttemptPlan<unknown>,
    now: number,
  ): Promise<{ record: MfaRecord; counted: CountedAttempt | undefined; proofAt: number | undefined } | null> {
    // Unique to this attempt (within its millisecond), so that the check can be given back if it was a copy.
    const at = proofAttemptTime(now, randomInt(1, PROOF_TIME_FRACTIONS));
    const guard = lane === 'code' ? { lane, requires: plan.requires, ...quietAttemptGuard(now) } : { lane, requires: plan.requires, at, ...quietProofGuard(now) };
    const quiet = await store.countQuietAttempt(actor.userId, guard, now);
    const found = quiet.record;
    if (quiet.counted && found) {
      if (lane === 'proof') {
        plan.precondition(found, now);
        return { record: found, counted: undefined, proofAt: at };
      }
      const counted = { failures: found.failures, windowStart: found.windowStart!, windowFailures: found.windowFailures! };
      const record = { ...found, failures: found.failures - 1, windowFailures: found.windowFailures! - 1 };
      plan.precondition(record, now);
      return { record, counted, proofAt: undefined };
    }
    plan.precondition(found, now);
    if (lane === 'proof') {
      const retryAfter = proofRetryAfterSeconds(found, now);
      if (retryAfter > 0) {
        audit(this.deps, actor, 'mfa.lockout.refused', 'refused', { operation: plan.operation });
        throw new TooManyAttemptsError(retryAfter);
      }
      // The quiet write found no window to count in (an item of version 1): this starts one.
      if (found.proofTimes !== undefined) return null;
      const written = await store.countDecidedAttempt(actor.userId, { lane, proofTimes: countProofAttempt(found, at) }, now);
      return written === 'ok' ? { record: found, counted: undefined, proofAt: at } : null;
    }
    if (isLocked(found, now)) {
      audit(this.deps, actor, 'mfa.lockout.refused', 'refused', { operation: plan.operation });
      throw new TooManyAttemptsError(retryAfterSeconds(found, now));
    }
    const counted = countAttempt(found, now);
    const events = counted.lockedUntil !== undefined ? [{ event: 'lockout.started' as const, ...originOf(actor) }] : [];
    const written = await store.countDecidedAttempt(actor.userId, { lane, previousFailures: found.failures, ...counted }, now, events);
    return written === 'ok' ? { record: found, counted, proofAt: undefined } : null;
  }

  /** The proof `factor` gives against `record`, or why it gives none. */
  private async evaluate(
    actor: Actor,
    record: MfaRecord,
    factor: SecondFactor,
    plan: AttemptPlan<unknown>,
    now: number,
    caches: { secrets: Map<string, Promise<Uint8Array>>; kdf: Map<string, Promise<Buffer>> },
  ): Promise<Evaluation<Proof>> {
    if ('recoveryCode' in factor) {
      if (plan.requires !== 'mfa-enabled') return { refused: 'wrong' };
      return proveRecoveryCode(record.recoveryCodeHashes, factor.recoveryCode, caches.kdf, record.spentRecoveryCodeHashes);
    }
    if ('webauthn' in factor) {
      if (plan.requires !== 'mfa-enabled') return { refused: 'wrong' };
      return proveWebAuthn(this.deps.settings.relyingParty, record, factor.webauthn, now);
    }
    const open = (sealed: Uint8Array, context = sealContextOf(actor)): Promise<Uint8Array> => {
      const key = `${context.purpose}:${Buffer.from(sealed).toString('base64')}`;
      let secret = caches.secrets.get(key);
      if (!secret) {
        secret = this.deps.sealer.open(sealed, context);
        caches.secrets.set(key, secret);
      }
      return secret;
    };
    if ('emailCode' in factor) {
      if (plan.requires === 'pending-enrollment') return { refused: 'wrong' };
      const purpose = plan.requires === 'pending-email' ? 'enroll' : 'prove';
      return proveEmailCode(record, actor, factor.emailCode, purpose, now, (sealed) => open(sealed, emailCodeSealContextOf(actor)));
    }
    if (plan.requires === 'pending-email') return { refused: 'wrong' };
    if (plan.requires === 'pending-enrollment') {
      return record.pending ? provePendingTotpCode(record.pending.sealedSecret, factor.code, now, open) : { refused: 'wrong' };
    }
    return proveTotpCode(authenticatorsOf(record, 'totp'), factor.code, now, open);
  }
}

/** `store`, refusing to start a write after `deadline` (performance.now() time): ContentionError, nothing written. */
function writingUntil(store: MfaStore, deadline: number): MfaStore {
  // Every method but `get` writes: each of them, present and future, is held to the deadline.
  return new Proxy(store, {
    get(target, name, receiver) {
      const member: unknown = Reflect.get(target, name, receiver);
      if (typeof member !== 'function') return member;
      const method = member as (...args: unknown[]) => Promise<unknown>;
      if (name === 'get') return method.bind(target);
      return (...args: unknown[]) => (performance.now() < deadline ? method.apply(target, args) : Promise.reject(new ContentionError()));
    },
  });
}

function failureEvent(operation: Operation): AuditEventName {
  switch (operation) {
    case 'confirm':
      return 'mfa.enrollment.confirm_failed';
    case 'verify':
      return 'mfa.verify.failed';
    default:
      return 'mfa.step_up.failed';
  }
}
