import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Authenticator, MfaRecord, PendingChallenge, PendingEmailCode } from '../../domain/mfa-record.js';

/**
 * The MFA table's item: the one place that names its attributes and converts it to the
 * domain record. Shared by the DynamoDB adapter, the local table bootstrap and the CDK stack.
 * One item per user holds everything, so every change is a single-item conditional write:
 * atomic by construction.
 *
 * | attribute | type | what |
 * | --- | --- | --- |
 * | pk, sk | S | `USER#<sub>`, `MFA` |
 * | authenticators | M | authenticator id -> M (AUTHENTICATOR below); absent when MFA is off |
 * | recoveryCodes | SS | scrypt hashes of the unused recovery codes |
 * | spentRecoveryCodes | SS | scrypt hashes of the current set's used codes (a copy of one is refused as spent, not counted) |
 * | pendingSecret, pendingExpiresAt, pendingProved | B, N, BOOL | a TOTP app being set up |
 * | webauthnRegistration, webauthnAuthentication | M | pending challenges (PENDING_CHALLENGE) |
 * | webauthnUserHandle | S | the random WebAuthn user handle |
 * | emailCodes | M | first-factor session -> M (PENDING_EMAIL_CODE below): pending email codes, only as keyed hashes |
 * | emailSends | L | times of the last mails with a code (at most 5), oldest first: the send limit's window |
 * | notifyAddress | S | the verified address security notifications go to (recorded when a method is added) |
 * | webauthnLastChallenge | S | the authentication challenge last consumed (a copy of its response is refused as spent, not counted) |
 * | failures, lockedUntil, windowStart, windowFailures | N | the code lockout |
 * | proofTimes | L | the last 10 recovery-code and key checks, oldest first: the rate limit's sliding window |
 * | outbox | L | the change events of the last write (see the events stream) |
 * | lastWriteId | S | the id of the last write applied (lost-response detection) |
 * | ttl | N | expiry of items of users without MFA |
 * | totpSecret, totpEnabledAt, totpLastUsedAt, lastStep | B, N, N, N | version 1's one app (LEGACY) |
 */
export const MFA_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL removes items of users with only an expired enrollment. */
  timeToLiveAttribute: 'ttl',
} as const;

export const ATTR = {
  authenticators: 'authenticators',
  recoveryCodes: 'recoveryCodes',
  spentRecoveryCodes: 'spentRecoveryCodes',
  pendingSecret: 'pendingSecret',
  pendingExpiresAt: 'pendingExpiresAt',
  pendingProved: 'pendingProved',
  registration: 'webauthnRegistration',
  authentication: 'webauthnAuthentication',
  userHandle: 'webauthnUserHandle',
  lastChallenge: 'webauthnLastChallenge',
  failures: 'failures',
  lockedUntil: 'lockedUntil',
  windowStart: 'windowStart',
  windowFailures: 'windowFailures',
  proofTimes: 'proofTimes',
  emailCodes: 'emailCodes',
  emailSends: 'emailSends',
  notifyAddress: 'notifyAddress',
  outbox: 'outbox',
  lastWriteId: 'lastWriteId',
} as const;

/** Fields of one authenticator's map. */
export const AUTHENTICATOR = {
  kind: 'kind',
  name: 'name',
  createdAt: 'createdAt',
  lastUsedAt: 'lastUsedAt',
  secret: 'secret',
  lastStep: 'lastStep',
  credentialId: 'credentialId',
  publicKey: 'publicKey',
  counter: 'counter',
  transports: 'transports',
  backupEligible: 'backupEligible',
  backedUp: 'backedUp',
  address: 'address',
} as const;

/** Fields of a pending challenge's map. */
export const PENDING_CHALLENGE = { challenge: 'challenge', expiresAt: 'expiresAt', proved: 'proved' } as const;

/** Fields of a pending email code's map. */
export const PENDING_EMAIL_CODE = {
  purpose: 'purpose',
  hash: 'hash',
  sealedKey: 'sealedKey',
  expiresAt: 'expiresAt',
  address: 'address',
  proved: 'proved',
} as const;

/** Version 1's attributes: one TOTP app at the top level. Read as one app with LEGACY_TOTP_ID, rewritten on next use. */
export const LEGACY = { secret: 'totpSecret', enabledAt: 'totpEnabledAt', lastUsedAt: 'totpLastUsedAt', lastStep: 'lastStep' } as const;
export const LEGACY_TOTP_ID = 'totp-v1';

/**
 * The idempotency record of one security notice (functions/notifications): `NOTICE#<event id>`,
 * `NOTICE`, its state (`sending` until `leaseUntil`, then `sent`) and a TTL. It carries no
 * address and no content: only that the notice of that event went out.
 */
export const NOTICE = { prefix: 'NOTICE#', sortKey: 'NOTICE', state: 'state', leaseUntil: 'leaseUntil' } as const;

export const noticeKey = (eventId: string) => ({
  [MFA_TABLE.partitionKey]: { S: `${NOTICE.prefix}${eventId}` },
  [MFA_TABLE.sortKey]: { S: NOTICE.sortKey },
});

export type Item = Record<string, AttributeValue>;

export const userKey = (userId: string) => ({
  [MFA_TABLE.partitionKey]: { S: `USER#${userId}` },
  [MFA_TABLE.sortKey]: { S: 'MFA' },
});

export const num = (value: number): AttributeValue => ({ N: String(value) });
const readNum = (value: AttributeValue | undefined): number | undefined => (value?.N === undefined ? undefined : Number(value.N));

export function authenticatorToAttribute(authenticator: Authenticator): AttributeValue {
  const m: Item = {
    [AUTHENTICATOR.kind]: { S: authenticator.kind },
    [AUTHENTICATOR.name]: { S: authenticator.name },
    [AUTHENTICATOR.createdAt]: num(authenticator.createdAt),
  };
  if (authenticator.lastUsedAt !== undefined) m[AUTHENTICATOR.lastUsedAt] = num(authenticator.lastUsedAt);
  if (authenticator.kind === 'totp') {
    m[AUTHENTICATOR.secret] = { B: authenticator.sealedSecret };
    m[AUTHENTICATOR.lastStep] = num(authenticator.lastStep);
  } else if (authenticator.kind === 'email') {
    m[AUTHENTICATOR.address] = { S: authenticator.address };
  } else {
    m[AUTHENTICATOR.credentialId] = { S: authenticator.credentialId };
    m[AUTHENTICATOR.publicKey] = { B: authenticator.publicKey };
    m[AUTHENTICATOR.counter] = num(authenticator.counter);
    m[AUTHENTICATOR.transports] = { L: authenticator.transports.map((transport) => ({ S: transport })) };
    m[AUTHENTICATOR.backupEligible] = { BOOL: authenticator.backupEligible };
    m[AUTHENTICATOR.backedUp] = { BOOL: authenticator.backedUp };
  }
  return { M: m };
}

function authenticatorFromAttribute(id: string, value: AttributeValue): Authenticator | undefined {
  const m = value.M;
  if (!m) return undefined;
  const base = {
    id,
    name: m[AUTHENTICATOR.name]?.S ?? '',
    createdAt: readNum(m[AUTHENTICATOR.createdAt]) ?? 0,
    lastUsedAt: readNum(m[AUTHENTICATOR.lastUsedAt]),
  };
  switch (m[AUTHENTICATOR.kind]?.S) {
    case 'totp':
      return { ...base, kind: 'totp', sealedSecret: m[AUTHENTICATOR.secret]?.B ?? new Uint8Array(), lastStep: readNum(m[AUTHENTICATOR.lastStep]) ?? -1 };
    case 'webauthn':
      return {
        ...base,
        kind: 'webauthn',
        credentialId: m[AUTHENTICATOR.credentialId]?.S ?? '',
        publicKey: m[AUTHENTICATOR.publicKey]?.B ?? new Uint8Array(),
        counter: readNum(m[AUTHENTICATOR.counter]) ?? 0,
        transports: (m[AUTHENTICATOR.transports]?.L ?? []).flatMap((transport) => (transport.S ? [transport.S] : [])),
        backupEligible: m[AUTHENTICATOR.backupEligible]?.BOOL ?? false,
        backedUp: m[AUTHENTICATOR.backedUp]?.BOOL ?? false,
      };
    case 'email':
      return { ...base, kind: 'email', address: m[AUTHENTICATOR.address]?.S ?? '' };
    default:
      return undefined;
  }
}

export function pendingEmailCodeToAttribute(pending: PendingEmailCode): AttributeValue {
  return {
    M: {
      [PENDING_EMAIL_CODE.purpose]: { S: pending.purpose },
      [PENDING_EMAIL_CODE.hash]: { B: pending.hash },
      [PENDING_EMAIL_CODE.sealedKey]: { B: pending.sealedKey },
      [PENDING_EMAIL_CODE.expiresAt]: num(pending.expiresAt),
      [PENDING_EMAIL_CODE.address]: { S: pending.address },
      [PENDING_EMAIL_CODE.proved]: { BOOL: pending.proved },
    },
  };
}

function pendingEmailCodesFromAttribute(value: AttributeValue | undefined): Record<string, PendingEmailCode> | undefined {
  if (!value?.M) return undefined;
  const codes: Record<string, PendingEmailCode> = {};
  for (const [sessionId, entry] of Object.entries(value.M)) {
    const m = entry.M;
    const hash = m?.[PENDING_EMAIL_CODE.hash]?.B;
    const sealedKey = m?.[PENDING_EMAIL_CODE.sealedKey]?.B;
    const purpose = m?.[PENDING_EMAIL_CODE.purpose]?.S;
    if (!m || !hash || !sealedKey || (purpose !== 'enroll' && purpose !== 'prove')) continue;
    codes[sessionId] = {
      purpose,
      hash,
      sealedKey,
      expiresAt: readNum(m[PENDING_EMAIL_CODE.expiresAt]) ?? 0,
      address: m[PENDING_EMAIL_CODE.address]?.S ?? '',
      proved: m[PENDING_EMAIL_CODE.proved]?.BOOL ?? false,
    };
  }
  return codes;
}

export function pendingChallengeToAttribute(pending: PendingChallenge): AttributeValue {
  return {
    M: {
      [PENDING_CHALLENGE.challenge]: { S: pending.challenge },
      [PENDING_CHALLENGE.expiresAt]: num(pending.expiresAt),
      [PENDING_CHALLENGE.proved]: { BOOL: pending.proved },
    },
  };
}

function pendingChallengeFromAttribute(value: AttributeValue | undefined): PendingChallenge | undefined {
  const m = value?.M;
  const challenge = m?.[PENDING_CHALLENGE.challenge]?.S;
  if (!m || !challenge) return undefined;
  return { challenge, expiresAt: readNum(m[PENDING_CHALLENGE.expiresAt]) ?? 0, proved: m[PENDING_CHALLENGE.proved]?.BOOL ?? false };
}

/** The legacy app as today's authenticator (version 1 had no names: the default one). */
function legacyAuthenticator(item: Item): Authenticator | undefined {
  const secret = item[LEGACY.secret]?.B;
  if (!secret) return undefined;
  return {
    id: LEGACY_TOTP_ID,
    kind: 'totp',
    name: 'Authenticator app',
    createdAt: readNum(item[LEGACY.enabledAt]) ?? 0,
    lastUsedAt: readNum(item[LEGACY.lastUsedAt]),
    sealedSecret: secret,
    lastStep: readNum(item[LEGACY.lastStep]) ?? -1,
  };
}

/** Oldest first, so that lists read in the order the user added them. */
const byCreation = (a: Authenticator, b: Authenticator) => a.createdAt - b.createdAt || a.id.localeCompare(b.id);

export function toRecord(userId: string, item: Item): MfaRecord {
  const legacy = legacyAuthenticator(item);
  const stored = Object.entries(item[ATTR.authenticators]?.M ?? {}).flatMap(([id, value]) => {
    const authenticator = authenticatorFromAttribute(id, value);
    return authenticator ? [authenticator] : [];
  });
  const pendingSecret = item[ATTR.pendingSecret]?.B;
  return {
    userId,
    authenticators: [...(legacy ? [legacy] : []), ...stored].sort(byCreation),
    recoveryCodeHashes: item[ATTR.recoveryCodes]?.SS ?? [],
    spentRecoveryCodeHashes: item[ATTR.spentRecoveryCodes]?.SS ?? [],
    pending: pendingSecret
      ? { sealedSecret: pendingSecret, expiresAt: readNum(item[ATTR.pendingExpiresAt]) ?? 0, proved: item[ATTR.pendingProved]?.BOOL ?? false }
      : undefined,
    registration: pendingChallengeFromAttribute(item[ATTR.registration]),
    authentication: pendingChallengeFromAttribute(item[ATTR.authentication]),
    webauthnUserHandle: item[ATTR.userHandle]?.S,
    webauthnLastChallenge: item[ATTR.lastChallenge]?.S,
    emailCodes: pendingEmailCodesFromAttribute(item[ATTR.emailCodes]),
    emailSends: item[ATTR.emailSends]?.L?.map((time) => Number(time.N ?? 0)),
    notifyAddress: item[ATTR.notifyAddress]?.S,
    failures: readNum(item[ATTR.failures]) ?? 0,
    lockedUntil: readNum(item[ATTR.lockedUntil]),
    windowStart: readNum(item[ATTR.windowStart]),
    windowFailures: readNum(item[ATTR.windowFailures]),
    proofTimes: item[ATTR.proofTimes]?.L?.map((time) => Number(time.N ?? 0)),
    legacy: legacy !== undefined,
  };
}
