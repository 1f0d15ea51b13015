import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import {
  ContentionError,
  EnrollmentNotFoundError,
  InvalidCodeError,
  MfaNotEnabledError,
  TooManyAttemptsError,
  TotpAlreadyEnabledError,
} from '../domain/errors.js';
import { countAttempt, isLocked, quietAttemptGuard, retryAfterSeconds, type CountedAttempt } from '../domain/lockout.js';
import type { RandomSource } from '../domain/random.js';
import { findRecoveryCodeHash, generateRecoveryCodes, hashRecoveryCodes } from '../domain/recovery-codes.js';
import { buildOtpauthUri, generateTotpSecret, matchTotpStep, toBase32 } from '../domain/totp.js';
import type { AssertionSigner } from '../ports/assertion-signer.js';
import type { AuditContext, AuditEventName, AuditLog } from '../ports/audit-log.js';
import type { MfaRecord, MfaStore, Proof, QuietAttemptGuard, WriteResult } from '../ports/mfa-store.js';
import type { SealContext, SecretSealer } from '../ports/secret-sealer.js';

export interface MfaSettings {
  /** Shown in authenticator apps: the otpauth label's issuer and `issuer` parameter. */
  totpIssuer: string;
  /** `iss` of MFA assertions: the URL that serves /.well-known/openid-configuration. */
  assertionIssuer: string;
  assertionAudience: string;
  assertionTtlSeconds: number;
  enrollmentTtlSeconds: number;
}

export interface MfaServiceDeps {
  store: MfaStore;
  sealer: SecretSealer;
  signer: AssertionSigner;
  audit: AuditLog;
  clock: Clock;
  random: RandomSource;
  settings: MfaSettings;
}

/** Who is asking: the first-factor token's subject, plus what the audit trail needs. */
export interface Actor {
  userId: string;
  /** The otpauth account name: the token's email claim, else its subject. */
  accountName: string;
  audit: AuditContext;
}

export type SecondFactor = { code: string } | { recoveryCode: string };

export interface MfaStatus {
  mfaEnabled: boolean;
  methods: { totp: { enabled: boolean; enrolledAt: string | null; lastUsedAt: string | null } };
  recoveryCodes: { remaining: number };
}

/** The QR code of `otpauthUri` is drawn by the enrollment handler: no other function bundles a QR encoder. */
export interface EnrollmentStarted {
  secret: string;
  otpauthUri: string;
  expiresAt: string;
}

export interface EnrollmentConfirmed {
  enabled: true;
  reauthenticate: true;
  recoveryCodes?: string[];
}

export interface Verified {
  assertion: string;
  method: 'totp' | 'recovery_code';
  expiresAt: string;
  recoveryCodesRemaining: number;
}

/** Optimistic rounds before a request gives up under contention (each round re-reads). */
const MAX_ROUNDS = 16;
/**
 * Real time an attempt may take before it stops starting writes: well inside the functions'
 * 10 s timeout. A request that runs into the timeout has been answered 503 by then while its
 * work goes on (in Lambda, at the next thaw); a write started after that would change state
 * behind an error the client already holds.
 */
const ATTEMPT_BUDGET_MS = 7_000;
const SECRET_PURPOSE = 'totp-secret';

type Operation = 'confirm' | 'verify' | 'regenerate' | 'disable';

interface AttemptPlan<T> {
  operation: Operation;
  /** What the code is checked against, for the store's one-write count (see countQuietAttempt). */
  requires: QuietAttemptGuard['requires'];
  /** Throws when the operation does not apply to the stored state at all (404/409). */
  precondition(record: MfaRecord | undefined, now: number): asserts record is MfaRecord;
  /** The sealed TOTP secret that `code` is checked against. */
  sealedSecretOf(record: MfaRecord): Uint8Array | undefined;
  /** Writes the consumed proof and the operation's effect in one conditional write, through `store`. */
  commit(record: MfaRecord, proof: Proof, now: number, store: MfaStore): Promise<{ result: WriteResult; value?: T }>;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * The MFA use cases. Every code-checking operation goes through `attempt`, which enforces
 * the lockout, counts the attempt, evaluates the code against the state it read, and then
 * commits with a conditional write that re-checks that state; on a conflict it re-reads and
 * starts over.
 */
export class MfaService {
  constructor(private readonly deps: MfaServiceDeps) {}

  async status(actor: Actor): Promise<MfaStatus> {
    const record = await this.deps.store.get(actor.userId);
    const totp = record?.totp;
    return {
      mfaEnabled: totp !== undefined,
      methods: { totp: { enabled: totp !== undefined, enrolledAt: iso(totp?.enabledAt), lastUsedAt: iso(totp?.lastUsedAt) } },
      recoveryCodes: { remaining: totp ? record!.recoveryCodeHashes.length : 0 },
    };
  }

  async startTotpEnrollment(actor: Actor): Promise<EnrollmentStarted> {
    const { store, sealer, clock, random, settings } = this.deps;
    const secret = generateTotpSecret(random);
    const now = clock.now();
    const expiresAt = now + settings.enrollmentTtlSeconds * 1000;
    const sealedSecret = await sealer.seal(secret, this.sealContext(actor));
    if ((await store.putPendingEnrollment(actor.userId, { sealedSecret, expiresAt }, now)) === 'conflict') {
      throw new TotpAlreadyEnabledError();
    }
    const otpauthUri = buildOtpauthUri(secret, settings.totpIssuer, actor.accountName);
    this.audit(actor, 'mfa.enrollment.started', 'success');
    return {
      secret: toBase32(secret),
      otpauthUri,
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  async confirmTotpEnrollment(actor: Actor, code: string): Promise<EnrollmentConfirmed> {
    const newRecoveryCodeSet = this.recoveryCodeSetOnce();
    const { value: recoveryCodes } = await this.attempt<string[] | undefined>(actor, { code }, {
      operation: 'confirm',
      requires: 'pending-enrollment',
      precondition: (record, now) => {
        if (record?.totp) throw new TotpAlreadyEnabledError();
        if (!record?.pending || record.pending.expiresAt <= now) throw new EnrollmentNotFoundError();
      },
      sealedSecretOf: (record) => record.pending?.sealedSecret,
      commit: async (record, proof, now, store) => {
        if (proof.kind !== 'totp') throw new InvalidCodeError();
        // Recovery codes come with the user's first MFA method, in the same write that enables it.
        const firstSet = record.recoveryCodeHashes.length === 0 ? await newRecoveryCodeSet() : undefined;
        const result = await store.enableTotp(
          actor.userId,
          { pendingSealedSecret: proof.sealedSecret, step: proof.step, recoveryCodeHashes: firstSet?.hashes },
          now,
        );
        return { result, value: firstSet?.codes };
      },
    });
    this.audit(actor, 'mfa.totp.enabled', 'success', { method: 'totp' });
    return recoveryCodes ? { enabled: true, reauthenticate: true, recoveryCodes } : { enabled: true, reauthenticate: true };
  }

  async verify(actor: Actor, factor: SecondFactor): Promise<Verified> {
    const { signer, settings } = this.deps;
    const { record, proof, value: signed } = await this.attempt(actor, factor, {
      operation: 'verify',
      requires: 'totp',
      precondition: requireMfaEnabled,
      sealedSecretOf: (record) => record.totp?.sealedSecret,
      commit: async (_record, proof, now, store) => {
        // Signed before the write: if signing fails, the code has not been spent.
        const iat = Math.floor(now / 1000);
        const exp = iat + settings.assertionTtlSeconds;
        const assertion = await signer.sign({
          iss: settings.assertionIssuer,
          sub: actor.userId,
          aud: settings.assertionAudience,
          iat,
          nbf: iat,
          exp,
          jti: randomUUID(),
          amr: proof.kind === 'totp' ? ['mfa', 'otp'] : ['mfa'],
        });
        const result = await store.commitProof(actor.userId, proof, { kind: 'none' }, now);
        return { result, value: { assertion, exp } };
      },
    });
    const method = proof.kind;
    if (method === 'recovery_code') this.audit(actor, 'mfa.recovery_code.used', 'success', { method, operation: 'verify' });
    this.audit(actor, 'mfa.verify.succeeded', 'success', { method });
    return {
      assertion: signed!.assertion,
      method,
      expiresAt: new Date(signed!.exp * 1000).toISOString(),
      recoveryCodesRemaining: record.recoveryCodeHashes.length - (method === 'recovery_code' ? 1 : 0),
    };
  }

  async regenerateRecoveryCodes(actor: Actor, factor: SecondFactor): Promise<{ recoveryCodes: string[] }> {
    const newRecoveryCodeSet = this.recoveryCodeSetOnce();
    const { proof, value: codes } = await this.attempt<string[]>(actor, factor, {
      operation: 'regenerate',
      requires: 'totp',
      precondition: requireMfaEnabled,
      sealedSecretOf: (record) => record.totp?.sealedSecret,
      commit: async (_record, proof, now, store) => {
        // Generated only once the proof is known to be good: wrong codes cost no KDF work.
        const { codes, hashes } = await newRecoveryCodeSet();
        const result = await store.commitProof(actor.userId, proof, { kind: 'replace_recovery_codes', hashes }, now);
        return { result, value: codes };
      },
    });
    if (proof.kind === 'recovery_code') this.audit(actor, 'mfa.recovery_code.used', 'success', { method: proof.kind, operation: 'regenerate' });
    this.audit(actor, 'mfa.recovery_codes.regenerated', 'success', { method: proof.kind });
    return { recoveryCodes: codes! };
  }

  async disableTotp(actor: Actor, factor: SecondFactor): Promise<{ mfaEnabled: false }> {
    const { proof } = await this.attempt<void>(actor, factor, {
      operation: 'disable',
      requires: 'totp',
      precondition: requireMfaEnabled,
      sealedSecretOf: (record) => record.totp?.sealedSecret,
      commit: async (_record, proof, now, store) => ({ result: await store.commitProof(actor.userId, proof, { kind: 'disable' }, now) }),
    });
    if (proof.kind === 'recovery_code') this.audit(actor, 'mfa.recovery_code.used', 'success', { method: proof.kind, operation: 'disable' });
    this.audit(actor, 'mfa.totp.disabled', 'success', { method: proof.kind });
    return { mfaEnabled: false };
  }

  private async attempt<T>(
    actor: Actor,
    factor: SecondFactor,
    plan: AttemptPlan<T>,
  ): Promise<{ record: MfaRecord; proof: Proof; value?: T | undefined }> {
    const { clock } = this.deps;
    const store = writingUntil(this.deps.store, performance.now() + ATTEMPT_BUDGET_MS);
    const openedSecrets = new Map<string, Promise<Uint8Array>>();
    const kdfCache = new Map<string, Promise<Buffer>>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // Every guess is counted before it is evaluated, by a write that refuses to count past a lock:
      // however many guesses arrive at once, no more are evaluated than the lockout allows.
      // A right guess then resets the count in its own write. Usually the count is plain
      // arithmetic and the store does it in the write that reads the record (one call); when
      // it would start a lock or a new failure window, it is decided here and written conditionally.
      const now = clock.now();
      const quiet = await store.countQuietAttempt(actor.userId, { ...quietAttemptGuard(now), requires: plan.requires }, now);
      let record = quiet.record;
      let counted: CountedAttempt;
      if (quiet.counted && record) {
        counted = { failures: record.failures, windowStart: record.windowStart!, windowFailures: record.windowFailures! };
        record = { ...record, failures: record.failures - 1, windowFailures: record.windowFailures! - 1 };
        plan.precondition(record, now);
      } else {
        plan.precondition(record, now);
        if (isLocked(record, now)) {
          this.audit(actor, 'mfa.lockout.refused', 'refused', { operation: plan.operation });
          throw new TooManyAttemptsError(retryAfterSeconds(record, now));
        }
        counted = countAttempt(record, now);
        if ((await store.recordFailure(actor.userId, { previousFailures: record.failures, ...counted }, now)) === 'conflict') continue;
      }
      const { failures, lockedUntil } = counted;
      const proof = await this.evaluate(actor, record, factor, plan, now, openedSecrets, kdfCache);
      if (proof) {
        const { result, value } = await plan.commit(record, proof, now, store);
        if (result === 'ok') return { record, proof, value };
        continue;
      }
      const method = 'code' in factor ? 'totp' : 'recovery_code';
      this.audit(actor, failureEvent(plan.operation), 'failure', { method, operation: plan.operation, failures });
      if (lockedUntil !== undefined) {
        this.audit(actor, 'mfa.lockout.started', 'refused', { failures, lockedUntil: new Date(lockedUntil).toISOString() });
      }
      throw new InvalidCodeError();
    }
    throw new ContentionError();
  }

  /** The proof `factor` gives against `record`, or null when it is wrong or already used. */
  private async evaluate(
    actor: Actor,
    record: MfaRecord,
    factor: SecondFactor,
    plan: AttemptPlan<unknown>,
    now: number,
    openedSecrets: Map<string, Promise<Uint8Array>>,
    kdfCache: Map<string, Promise<Buffer>>,
  ): Promise<Proof | null> {
    if ('recoveryCode' in factor) {
      if (plan.operation === 'confirm') return null;
      const hash = await findRecoveryCodeHash(factor.recoveryCode, record.recoveryCodeHashes, kdfCache);
      return hash === null ? null : { kind: 'recovery_code', hash };
    }
    const sealedSecret = plan.sealedSecretOf(record);
    if (!sealedSecret) return null;
    const cacheKey = Buffer.from(sealedSecret).toString('base64');
    let secret = openedSecrets.get(cacheKey);
    if (!secret) {
      secret = this.deps.sealer.open(sealedSecret, this.sealContext(actor));
      openedSecrets.set(cacheKey, secret);
    }
    const step = matchTotpStep(await secret, factor.code, now);
    if (step === null) return null;
    const lastStep = plan.operation === 'confirm' ? undefined : record.totp?.lastStep;
    if (lastStep !== undefined && step <= lastStep) {
      this.audit(actor, 'mfa.code.replay_refused', 'refused', { method: 'totp', operation: plan.operation });
      return null;
    }
    return { kind: 'totp', sealedSecret, step };
  }

  /** Generates and hashes a recovery-code set at most once per request, however many rounds it takes. */
  private recoveryCodeSetOnce(): () => Promise<{ codes: string[]; hashes: string[] }> {
    let set: Promise<{ codes: string[]; hashes: string[] }> | undefined;
    return () => {
      set ??= (async () => {
        const codes = generateRecoveryCodes(this.deps.random);
        return { codes, hashes: await hashRecoveryCodes(codes, this.deps.random) };
      })();
      return set;
    };
  }

  private sealContext(actor: Actor): SealContext {
    return { purpose: SECRET_PURPOSE, userId: actor.userId };
  }

  private audit(
    actor: Actor,
    event: AuditEventName,
    outcome: 'success' | 'failure' | 'refused',
    details: { method?: 'totp' | 'recovery_code'; operation?: string; failures?: number; lockedUntil?: string } = {},
  ): void {
    this.deps.audit.record({ event, userId: actor.userId, outcome, ...details }, actor.audit);
  }
}

/** `store`, refusing to start a write after `deadline` (performance.now() time): ContentionError, nothing written. */
function writingUntil(store: MfaStore, deadline: number): MfaStore {
  const inTime =
    <A extends unknown[]>(write: (...args: A) => Promise<WriteResult>) =>
    (...args: A): Promise<WriteResult> =>
      performance.now() < deadline ? write(...args) : Promise.reject(new ContentionError());
  return {
    get: (userId) => store.get(userId),
    countQuietAttempt: (userId, guard, now) =>
      performance.now() < deadline ? store.countQuietAttempt(userId, guard, now) : Promise.reject(new ContentionError()),
    putPendingEnrollment: inTime(store.putPendingEnrollment.bind(store)),
    enableTotp: inTime(store.enableTotp.bind(store)),
    commitProof: inTime(store.commitProof.bind(store)),
    recordFailure: inTime(store.recordFailure.bind(store)),
  };
}

function requireMfaEnabled(record: MfaRecord | undefined): asserts record is MfaRecord {
  if (!record?.totp) throw new MfaNotEnabledError();
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
