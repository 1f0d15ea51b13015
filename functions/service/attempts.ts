import { randomInt } from 'node:crypto';
import type { ChangeEvent } from '../domain/change-events.js';
import { ContentionError, DeviceProofNotAcceptedError, InvalidCodeError, InvalidCredentialError, MfaNotEnabledError, TooManyAttemptsError } from '../domain/errors.js';
import {
  ceilingWindowOf,
  countAttempt,
  isLocked,
  proofAttemptTime,
  PROOF_TIME_FRACTIONS,
  PROOF_WINDOW_MS,
  quietAttemptGuard,
  quietProofGuard,
  retryAfterSeconds,
  slideWindow,
  USER_PROOF_CEILING,
  windowRetryAfterSeconds,
  type AttemptLane,
  type CountedAttempt,
} from '../domain/lockout.js';
import { authenticatorsOf, mfaEnabled, type MfaRecord } from '../domain/mfa-record.js';
import { decideRefund, sessionRetryAfterSeconds, sessionsToDrop, sessionWithCheck, sessionWithoutCheck, type SessionLimits } from '../domain/sessions.js';
import type { Evaluation } from '../methods/evaluation.js';
import { proveDevice } from '../methods/device/device.js';
import { PROOF_LANES } from '../methods/kinds.js';
import { proveRecoveryCode } from '../methods/recovery-codes/recovery-code-proof.js';
import { proveEmailCode } from '../methods/email/email-proof.js';
import { provePendingTotpCode, proveTotpCode } from '../methods/totp/totp-proof.js';
import { proveWebAuthn } from '../methods/webauthn/webauthn.js';
import type { AuditEventName } from '../ports/audit-log.js';
import type { AttemptRequires, MfaStore, Proof, SessionChange, WriteResult } from '../ports/mfa-store.js';
import { audit, emailCodeSealContextOf, methodOf, sealContextOf, type Actor, type FactorMethod, type MfaServiceDeps, type SecondFactor } from './context.js';
import { auditBackupEligibilityChange, signalSuspectedClone } from './webauthn-signals.js';

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

/** Codes can be guessed; recovery codes, keys' and remembered browsers' signatures cannot (methods/kinds.ts PROOF_LANES). */
const laneOf = (factor: SecondFactor): AttemptLane => PROOF_LANES[methodOf(factor)];

/** What counting an attempt found: the record to evaluate, and how the attempt was counted (to give it back). */
interface Count {
  record: MfaRecord;
  /** A guessable code: the counters as written. */
  counted?: CountedAttempt | undefined;
  /** An unguessable proof: the time it was counted at, in the session's window and the ceiling's. */
  at?: number | undefined;
}

/** A remembered browser's signature signs a user in, and does nothing else: never a step-up. */
const acceptsProof = (factor: SecondFactor, operation: Operation): boolean => !('device' in factor) || operation === 'verify';

/** A refused key or device signature is an invalid credential; a refused code, an invalid code. */
const refusalOf = (factor: SecondFactor): Error => ('webauthn' in factor || 'device' in factor ? new InvalidCredentialError() : new InvalidCodeError());

/**
 * The attempt engine: every proof of a factor goes through `run`. It counts the attempt
 * before evaluating it, by a write that refuses to count past the limit of its lane (guessable
 * codes: the user's lockout; unguessable recovery codes and keys: the session's rate limit and
 * the user's ceiling), evaluates the proof against the state it read, and commits with a
 * conditional write that re-checks that state; on a conflict it re-reads and evaluates again
 * (the attempt stays counted once). A copy of a right proof already spent is given back within
 * the session's refund allowance, and refused 429 beyond it.
 */
export class AttemptEngine {
  constructor(private readonly deps: Pick<MfaServiceDeps, 'store' | 'sealer' | 'audit' | 'clock' | 'settings'>) {}

  async run<T>(actor: Actor, factor: SecondFactor, plan: AttemptPlan<T>): Promise<Attempted<T>> {
    const { clock } = this.deps;
    // Refused before anything is counted or written.
    if (!acceptsProof(factor, plan.operation)) throw new DeviceProofNotAcceptedError();
    const store = writingUntil(this.deps.store, performance.now() + ATTEMPT_BUDGET_MS);
    const lane = laneOf(factor);
    const caches = { secrets: new Map<string, Promise<Uint8Array>>(), kdf: new Map<string, Promise<Buffer>>() };
    let count: Count | undefined;
    // Set once a round found the proof right: a later round's refusal is then no guess either.
    let proven = false;
    if (!countedWithoutReading(plan)) plan.precondition(await store.get(actor.userId), clock.now());
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = clock.now();
      let record: MfaRecord | undefined;
      if (count) {
        // A retry after a conflict (the commit's, or a version-1 item's rewrite before any check): no
        // guess has been refused, so a refusal of the changed state gives the count back.
        const read = await store.get(actor.userId);
        const counted = count;
        record = await preconditionOfCounted(plan, read, now, () => this.giveBackCount(actor, store, read, counted, now));
      } else {
        count = (await this.count(actor, store, lane, plan, now)) ?? undefined;
        if (!count) continue;
        record = count.record;
      }
      if (record.legacy) {
        if ((await store.migrateLegacy(record, now)) === 'conflict') continue;
        record = { ...record, legacy: false };
      }
      const evaluation = await this.evaluate(actor, record, factor, plan, now, caches);
      if ('proof' in evaluation) {
        proven = true;
        const { result, value } = await plan.commit(record, evaluation.proof, now, store);
        if (result === 'ok') {
          // Whatever the recovery code was spent for (a sign-in, a step-up that adds or removes a method, ...).
          if (evaluation.proof.kind === 'recovery_code') audit(this.deps, actor, 'mfa.recovery_code.used', 'success', { method: 'recovery_code', operation: plan.operation });
          auditBackupEligibilityChange(this.deps, actor, evaluation.proof, plan.operation);
          return { record, proof: evaluation.proof, value };
        }
        continue;
      }
      const method = methodOf(factor);
      if (evaluation.refused === 'spent') {
        // A right code (or key response) already used: no guess, so its attempt is given back, within the session's allowance.
        await this.giveBack(actor, store, record, count, { spentKey: evaluation.spentKey, method }, plan, now);
        throw refusalOf(factor);
      }
      // A key's counter found behind on a retry is the other request's use of the same key, not a clone.
      if (evaluation.refused === 'counter_regression' && !proven) {
        await signalSuspectedClone(this.deps, store, actor, evaluation.authenticatorId, plan.operation, now);
      }
      if (proven) {
        // Right when it was checked, refused now that another request changed the item (the app
        // used removed, the codes replaced, the step moved on): no guess, so no failure and no lock.
        await this.giveBackCount(actor, store, record, count, now).catch(() => undefined);
        audit(this.deps, actor, 'mfa.proof.raced', 'refused', { method, operation: plan.operation });
        throw refusalOf(factor);
      }
      const counted = count.counted;
      audit(this.deps, actor, failureEvent(plan.operation), 'failure', { method, operation: plan.operation, ...(counted ? { failures: counted.failures } : {}) });
      if (counted?.lockedUntil !== undefined) await this.confirmLockout(actor, store, { ...counted, lockedUntil: counted.lockedUntil }, now);
      // A wrong code checked against several apps had as many chances: the failure window counts each.
      const checks = evaluation.refused === 'wrong' ? (evaluation.checks ?? 1) : 1;
      if (counted && checks > 1) await store.chargeCodeChecks(actor.userId, counted.windowStart, checks - 1, now);
      throw refusalOf(factor);
    }
    throw new ContentionError();
  }

  /**
   * Counts one attempt in its lane, or returns null when another request counted first.
   * Usually the count is plain arithmetic and the store does it in the write that reads the
   * record (one call); when it would start a lock, or a session's first check, it is decided
   * here and written conditionally.
   */
  private async count(actor: Actor, store: MfaStore, lane: AttemptLane, plan: AttemptPlan<unknown>, now: number): Promise<Count | null> {
    if (lane === 'unguessable') return this.countUnguessable(actor, store, plan, now);
    const guard = { lane, requires: plan.requires, sessionId: actor.sessionId, ...quietAttemptGuard(now) };
    const quiet = await store.countQuietAttempt(actor.userId, guard, now);
    const found = quiet.record;
    if (quiet.counted && found) {
      const counted = { failures: found.failures, windowStart: found.windowStart!, windowFailures: found.windowFailures! };
      const record = { ...found, failures: found.failures - 1, windowFailures: found.windowFailures! - 1 };
      await preconditionOfCounted(plan, record, now, () => this.giveBackCount(actor, store, found, { record, counted }, now));
      return { record, counted };
    }
    plan.precondition(found, now);
    if (isLocked(found, now)) {
      audit(this.deps, actor, 'mfa.lockout.refused', 'refused', { operation: plan.operation });
      throw new TooManyAttemptsError(retryAfterSeconds(found, now));
    }
    const counted = countAttempt(found, now);
    // No event here: a lock this attempt starts is published only once it is known to stand (confirmLockout).
    const written = await store.countDecidedAttempt(actor.userId, { previousFailures: found.failures, previousWindowStart: found.windowStart, ...counted }, now);
    return written === 'ok' ? { record: found, counted } : null;
  }

  /** Counts a recovery-code or key check in the session's window and the user's ceiling window. */
  private async countUnguessable(actor: Actor, store: MfaStore, plan: AttemptPlan<unknown>, now: number): Promise<Count | null> {
    // Unique to this attempt (within its millisecond), so that the check can be given back if it was a copy.
    const at = proofAttemptTime(now, randomInt(1, PROOF_TIME_FRACTIONS));
    const guard = { lane: 'unguessable' as const, requires: plan.requires, sessionId: actor.sessionId, at, ...quietProofGuard(now) };
    const quiet = await store.countQuietAttempt(actor.userId, guard, now);
    const found = quiet.record;
    if (quiet.counted && found) {
      await preconditionOfCounted(plan, found, now, () => this.giveBackCount(actor, store, found, { record: found, at }, now));
      return { record: found, at };
    }
    plan.precondition(found, now);
    const entry = found.sessions?.[actor.sessionId];
    const sessionWait = sessionRetryAfterSeconds(entry, now);
    if (sessionWait > 0) {
      audit(this.deps, actor, 'mfa.lockout.refused', 'refused', { operation: plan.operation });
      throw new TooManyAttemptsError(sessionWait);
    }
    const ceiling = ceilingWindowOf(found.proofTimes);
    const ceilingWait = windowRetryAfterSeconds(ceiling, now);
    if (ceilingWait > 0) {
      await this.reportCeiling(actor, store, found, now);
      audit(this.deps, actor, 'mfa.lockout.refused', 'refused', { operation: plan.operation });
      throw new TooManyAttemptsError(ceilingWait);
    }
    // The session's first check (its entry is made here), or an item of an earlier version (its ceiling window is widened).
    const after = sessionWithCheck(entry, at);
    const session = sessionChangeOf(found, actor.sessionId, entry, after, now);
    const stored = found.proofTimes?.length === USER_PROOF_CEILING;
    const ceilingAfter = slideWindow(ceiling, at);
    const { result } = await store.changeSession(
      actor.userId,
      session,
      stored ? { kind: 'count', oldestAtMost: now - PROOF_WINDOW_MS, at } : { kind: 'replace', before: found.proofTimes, after: ceilingAfter },
      now,
    );
    if (result === 'conflict') return null;
    return { record: { ...found, sessions: { ...found.sessions, [actor.sessionId]: after }, proofTimes: ceilingAfter }, at };
  }

  /** Gives back an attempt `count` counted, in its lane, as read in `found` (nothing when the item is gone). */
  private async giveBackCount(actor: Actor, store: MfaStore, found: MfaRecord | undefined, count: Count, now: number): Promise<void> {
    if (count.counted) await store.refundCodeAttempt(actor.userId, count.counted, now);
    else if (count.at !== undefined && found) await this.takeBackCheck(actor, store, found, count.at, now);
  }

  /**
   * Takes a counted recovery-code or key check back out of the session's window and the user's
   * ceiling window, as if it had never been counted: conditional writes, re-read and retried when
   * the item moved on meanwhile, nothing once the check is no longer there. For a request refused
   * before anything was checked, or whose right proof met a state that no longer applies.
   */
  private async takeBackCheck(actor: Actor, store: MfaStore, found: MfaRecord, at: number, now: number): Promise<void> {
    let record: MfaRecord | undefined = found;
    for (let round = 0; record && round < MAX_ROUNDS; round++) {
      const entry = record.sessions?.[actor.sessionId];
      const after = entry && sessionWithoutCheck(entry, at);
      if (!entry || !after) return;
      const index = (record.proofTimes ?? []).indexOf(at);
      const changed = await store.changeSession(
        actor.userId,
        sessionChangeOf(record, actor.sessionId, entry, after, now),
        index >= 0 ? { kind: 'give_back', index, at } : undefined,
        now,
      );
      if (changed.result === 'ok') return;
      record = changed.record;
    }
  }

  /**
   * Gives back a copy of a right proof (no guess): its check leaves the session's window (and
   * the ceiling's), and a guessable code's count leaves the user's counters, while the session has
   * refunds left in the window. Its `code.replay_refused` event rides on that write, at most once
   * a window per spent proof and session. Beyond the allowance the copy is refused 429: the
   * session's check stays counted, and the user's code lock is still never touched.
   */
  private async giveBack(
    actor: Actor,
    store: MfaStore,
    found: MfaRecord,
    count: Count,
    { spentKey, method }: { spentKey: string; method: FactorMethod },
    plan: AttemptPlan<unknown>,
    now: number,
  ): Promise<void> {
    let record: MfaRecord | undefined = found;
    for (let round = 0; record && round < MAX_ROUNDS; round++) {
      const entry = record.sessions?.[actor.sessionId];
      const decision = decideRefund(entry, count.at, spentKey, now);
      if ('retryAfterSeconds' in decision) {
        if (count.counted) await store.refundCodeAttempt(actor.userId, count.counted, now);
        audit(this.deps, actor, 'mfa.lockout.refused', 'refused', { operation: plan.operation });
        throw new TooManyAttemptsError(decision.retryAfterSeconds);
      }
      const index = count.at === undefined ? -1 : (record.proofTimes ?? []).indexOf(count.at);
      const events: ChangeEvent[] = decision.event ? [{ event: 'code.replay_refused', requestId: actor.audit.requestId, method }] : [];
      const changed = await store.changeSession(
        actor.userId,
        sessionChangeOf(record, actor.sessionId, entry, decision.entry, now),
        index >= 0 ? { kind: 'give_back', index, at: count.at! } : undefined,
        now,
        events,
      );
      if (changed.result === 'ok') break;
      record = changed.record;
    }
    if (count.counted) await store.refundCodeAttempt(actor.userId, count.counted, now);
    audit(this.deps, actor, 'mfa.code.replay_refused', 'refused', { method, operation: plan.operation });
  }

  /** Publishes the start of the lock this attempt's count wrote, only while that lock stands as committed. */
  private async confirmLockout(actor: Actor, store: MfaStore, counted: CountedAttempt & { lockedUntil: number }, now: number): Promise<void> {
    const events: ChangeEvent[] = [{ event: 'lockout.started', requestId: actor.audit.requestId }];
    if ((await store.confirmLockout(actor.userId, counted.lockedUntil, now, events)) === 'ok') {
      audit(this.deps, actor, 'mfa.lockout.started', 'refused', { failures: counted.failures, lockedUntil: new Date(counted.lockedUntil).toISOString() });
    }
  }

  /** Reports that the user's ceiling refused a check: an event, an audit line and (through it) a metric, at most once a window. */
  private async reportCeiling(actor: Actor, store: MfaStore, found: MfaRecord, now: number): Promise<void> {
    if (found.ceilingReportedAt !== undefined && found.ceilingReportedAt > now - PROOF_WINDOW_MS) return;
    const events: ChangeEvent[] = [{ event: 'proof_ceiling.reached', requestId: actor.audit.requestId }];
    if ((await store.reportCeiling(actor.userId, found.ceilingReportedAt, now, events)) === 'ok') {
      audit(this.deps, actor, 'mfa.proof_ceiling.reached', 'refused', {});
    }
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
      return proveRecoveryCode(actor.userId, record.recoveryCodeHashes, factor.recoveryCode, caches.kdf, {
        hashes: record.spentRecoveryCodeHashes,
        digests: record.spentRecoveryCodeDigests,
      });
    }
    if ('webauthn' in factor) {
      if (plan.requires !== 'mfa-enabled') return { refused: 'wrong' };
      return proveWebAuthn(this.deps.settings.relyingParty, record, factor.webauthn, now, actor.sessionId);
    }
    if ('device' in factor) {
      // Remembering off: no remembered browser signs anyone in, even one remembered before.
      if (plan.requires !== 'mfa-enabled' || this.deps.settings.rememberDeviceDays === 0) return { refused: 'wrong' };
      return proveDevice(record, factor.device, { sessionId: actor.sessionId, app: actor.audience ?? '' }, now);
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
      const pending = record.pendingEnrollments?.[actor.sessionId];
      return pending ? provePendingTotpCode(actor.sessionId, pending.sealedSecret, factor.code, now, open) : { refused: 'wrong' };
    }
    return proveTotpCode(actor.userId, authenticatorsOf(record, 'totp'), factor.code, now, open);
  }
}

/** A change of a session's entry from `before` to `after` (as read in `record`), making room among the others when it is new. */
export function sessionChangeOf(record: MfaRecord, sessionId: string, before: SessionLimits | undefined, after: SessionLimits, now: number): SessionChange {
  const drop = before ? [] : sessionsToDrop(record.sessions, sessionId, now);
  return {
    sessionId,
    before,
    after,
    mapExists: record.sessions !== undefined,
    drop: drop.map((dropped) => ({ sessionId: dropped, entry: record.sessions![dropped]! })),
  };
}

/**
 * The plan's precondition on a record whose attempt the one-write count has already counted (its
 * store condition covers only part of it, such as MFA on): a refusal (404, 409) gives the attempt
 * back before it is thrown, so that a request refused before any check changes no counter, as it
 * changes none when the precondition is checked before counting. The same holds on a retry round
 * (a right proof whose commit met a state changed meanwhile: MFA turned off, the method gone).
 */
async function preconditionOfCounted(
  plan: AttemptPlan<unknown>,
  record: MfaRecord | undefined,
  now: number,
  giveBack: () => Promise<unknown>,
): Promise<MfaRecord> {
  try {
    plan.precondition(record, now);
    return record;
  } catch (error) {
    // Best effort: the refusal the client gets is the precondition's, never the give-back's fault.
    await giveBack().catch(() => undefined);
    throw error;
  }
}

/**
 * The precondition of a plan that acts on the whole record (a sign-in, turning the apps off,
 * new recovery codes): MFA on. The write that counts an attempt checks it too.
 */
export function requireMfaEnabled(record: MfaRecord | undefined): asserts record is MfaRecord {
  if (!mfaEnabled(record)) throw new MfaNotEnabledError();
}

/**
 * Whether the write that counts the plan's attempt checks all its precondition does: only MFA on
 * (`requireMfaEnabled` under `requires: 'mfa-enabled'`). The attempt is then counted in that
 * write, which reads the item. Any other precondition (a method that must be there, room for one
 * more, a setup of this session's) is checked on a read before anything is counted, so that a
 * request it refuses is never counted, not even for the moment before it would be given back, in
 * which it could make another request's wrong guess start a lock.
 */
const countedWithoutReading = (plan: AttemptPlan<unknown>): boolean => plan.requires === 'mfa-enabled' && plan.precondition === requireMfaEnabled;

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
