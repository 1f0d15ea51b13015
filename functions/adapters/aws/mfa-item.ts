import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Authenticator, MfaRecord, PendingChallenge, PendingDeviceChallenge, PendingEmailCode, PendingEnrollment, RememberedDevice } from '../../domain/mfa-record.js';
import type { SessionLimits } from '../../domain/sessions.js';

/**
 * The MFA table's item: the one place that names its attributes and converts it to the
 * domain record. Shared by the DynamoDB adapter, the local table bootstrap and the CDK stack.
 * One item per user holds everything, so every change is a single-item conditional write:
 * atomic by construction (adding or removing a key also writes its credential id's item, below,
 * in the same transaction).
 *
 * | attribute | type | what |
 * | --- | --- | --- |
 * | pk, sk | S | `USER#<sub>`, `MFA` |
 * | authenticators | M | authenticator id -> M (AUTHENTICATOR below); absent when MFA is off |
 * | recoveryCodes | SS | scrypt hashes of the unused recovery codes |
 * | spentRecoveryCodes | SS | scrypt hashes of the current set's used codes (a copy of one is refused as spent, not counted) |
 * | spentRecoveryCodeDigests | SS | fast digests of the same used codes (a copy is recognised without the KDF) |
 * | pendingEnrollments | M | session id -> M (PENDING_ENROLLMENT): TOTP apps being set up, at most 5 |
 * | webauthnRegistrations | M | session id -> M (PENDING_CHALLENGE): pending key registrations, at most 5 |
 * | webauthnChallengeKey | B | 32 random bytes that authenticate the user's key sign-in challenges, which are minted, not stored (methods/webauthn/challenges.ts) |
 * | webauthnSpentChallenges | M | nonce -> N (its challenge's expiry): sign-in challenges already answered, kept until they expire (a copy of a response is refused as spent, not counted) |
 * | webauthnUserHandle | S | the random WebAuthn user handle |
 * | emailCodes | M | first-factor session -> M (PENDING_EMAIL_CODE below): pending email codes, only as keyed hashes |
 * | emailSends | L | times of the last mails with a code (at most 5), oldest first: the send limit's window |
 * | notifyAddress | S | the verified address security notifications go to (recorded when a method is added) |
 * | emailLastCodeDigest | S | a digest of the email code last consumed, bound to its session (a copy of it is refused as spent, not counted) |
 * | failures, lockedUntil, windowStart, windowFailures | N | the code lockout |
 * | devices | M | device id -> M (DEVICE below): remembered browsers (public keys only) |
 * | deviceChallenges | M | first-factor session digest -> M (DEVICE_CHALLENGE below): its pending device challenge |
 * | proofTimes | L | the last 100 recovery-code and key checks of all sessions, oldest first: the per-user ceiling's sliding window |
 * | sessions | M | session id -> M (SESSION): per-session limits and the expiry of the session's last key challenge, at most 32 entries |
 * | ceilingReportedAt | N | when reaching the ceiling was last reported (at most once a minute) |
 * | outbox | L | the change events of the last write (see the events stream) |
 * | lastWriteId | S | the id of the last write applied (lost-response detection) |
 * | ttl | N | expiry of items of users without MFA |
 * | totpSecret, totpEnabledAt, totpLastUsedAt, lastStep | B, N, N, N | version 1's one app (LEGACY) |
 * | pendingSecret, pendingExpiresAt, pendingProved, webauthnRegistration, webauthnAuthentication | | version 2's one pending ceremony of each kind (PREVIOUS_PENDING): no longer read, removed by a reset |
 * | webauthnChallenges, webauthnLastChallenge | M, S | stored sign-in challenges, before they were minted (PREVIOUS_CHALLENGES): no longer read, removed with every authenticator |
 *
 * Beside the users' items, one item per registered security key's credential id (CREDENTIAL):
 * written in the same transaction as the key, deleted in the same transaction as the key, so a
 * credential id belongs to at most one key of one user (WebAuthn L3 7.1 step 26).
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
  spentRecoveryCodeDigests: 'spentRecoveryCodeDigests',
  pendingEnrollments: 'pendingEnrollments',
  registrations: 'webauthnRegistrations',
  challengeKey: 'webauthnChallengeKey',
  spentChallenges: 'webauthnSpentChallenges',
  sessions: 'sessions',
  ceilingReportedAt: 'ceilingReportedAt',
  userHandle: 'webauthnUserHandle',
  emailLastCode: 'emailLastCodeDigest',
  failures: 'failures',
  lockedUntil: 'lockedUntil',
  windowStart: 'windowStart',
  windowFailures: 'windowFailures',
  proofTimes: 'proofTimes',
  emailCodes: 'emailCodes',
  emailSends: 'emailSends',
  notifyAddress: 'notifyAddress',
  devices: 'devices',
  deviceChallenges: 'deviceChallenges',
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
  lastCodeDigest: 'lastCodeDigest',
  credentialId: 'credentialId',
  publicKey: 'publicKey',
  counter: 'counter',
  transports: 'transports',
  backupEligible: 'backupEligible',
  backedUp: 'backedUp',
  address: 'address',
} as const;

/** Fields of one remembered browser's map: its public key's coordinates, never anything secret. */
export const DEVICE = {
  name: 'name',
  app: 'app',
  x: 'x',
  y: 'y',
  createdAt: 'createdAt',
  lastUsedAt: 'lastUsedAt',
  expiresAt: 'expiresAt',
  authTime: 'authTime',
} as const;

/** Fields of a session's pending device challenge. */
export const DEVICE_CHALLENGE = { deviceId: 'deviceId', app: 'app', challenge: 'challenge', expiresAt: 'expiresAt' } as const;

/** Fields of a pending challenge's map. */
export const PENDING_CHALLENGE = { challenge: 'challenge', createdAt: 'createdAt', expiresAt: 'expiresAt', proved: 'proved' } as const;

/** Fields of a pending app enrollment's map. */
export const PENDING_ENROLLMENT = { secret: 'secret', createdAt: 'createdAt', expiresAt: 'expiresAt', proved: 'proved' } as const;

/** Fields of a session's map (domain/sessions.ts SessionLimits). */
export const SESSION = { proofTimes: 'proofTimes', refundTimes: 'refundTimes', replayEvents: 'replayEvents', keyChallengeExpiresAt: 'keyChallengeExpiresAt' } as const;

/** The maps of pending ceremonies, by kind. */
export type PendingKind = 'enrollment' | 'registration';
export const PENDING_MAP: Record<PendingKind, string> = { enrollment: ATTR.pendingEnrollments, registration: ATTR.registrations };

/** Version 2's single pending ceremonies: no longer read; a reset removes them. */
export const PREVIOUS_PENDING = ['pendingSecret', 'pendingExpiresAt', 'pendingProved', 'webauthnRegistration', 'webauthnAuthentication'] as const;
/** Sign-in challenges as stored before they were minted (a map by session, the last consumed): no longer read. */
export const PREVIOUS_CHALLENGES = ['webauthnChallenges', 'webauthnLastChallenge'] as const;

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
 * The idempotency record of one security notice (functions/notifications): `NOTICE#<notice id>`
 * (the event's id; renames share one per user, kind and hour), `NOTICE`, its state (`sending`
 * until `leaseUntil`, then `sent`) and a TTL. It carries no address and no content: only that the
 * notice went out.
 */
export const NOTICE = { prefix: 'NOTICE#', sortKey: 'NOTICE', state: 'state', leaseUntil: 'leaseUntil' } as const;

export const noticeKey = (noticeId: string) => ({
  [MFA_TABLE.partitionKey]: { S: `${NOTICE.prefix}${noticeId}` },
  [MFA_TABLE.sortKey]: { S: NOTICE.sortKey },
});

export type Item = Record<string, AttributeValue>;

export const userKey = (userId: string) => ({
  [MFA_TABLE.partitionKey]: { S: `USER#${userId}` },
  [MFA_TABLE.sortKey]: { S: 'MFA' },
});

/**
 * A credential id's uniqueness item:
 *
 * | attribute | type | what |
 * | --- | --- | --- |
 * | pk, sk | S | `CREDENTIAL#<credential id, base64url>`, `CREDENTIAL` |
 * | userId | S | the user whose key holds it |
 * | authenticatorId | S | that key's authenticator id |
 * | createdAt | N | when the key was registered |
 *
 * Keys registered before version 3 have none: their ids are unique per user only.
 */
export const CREDENTIAL = { userId: 'userId', authenticatorId: 'authenticatorId', createdAt: 'createdAt' } as const;

export const credentialKey = (credentialId: string) => ({
  [MFA_TABLE.partitionKey]: { S: `CREDENTIAL#${credentialId}` },
  [MFA_TABLE.sortKey]: { S: 'CREDENTIAL' },
});

export function credentialItem(userId: string, key: { id: string; credentialId: string; createdAt: number }): Item {
  return {
    ...credentialKey(key.credentialId),
    [CREDENTIAL.userId]: { S: userId },
    [CREDENTIAL.authenticatorId]: { S: key.id },
    [CREDENTIAL.createdAt]: num(key.createdAt),
  };
}

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
    if (authenticator.lastCodeDigest) m[AUTHENTICATOR.lastCodeDigest] = { S: authenticator.lastCodeDigest };
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
      return {
        ...base,
        kind: 'totp',
        sealedSecret: m[AUTHENTICATOR.secret]?.B ?? new Uint8Array(),
        lastStep: readNum(m[AUTHENTICATOR.lastStep]) ?? -1,
        lastCodeDigest: m[AUTHENTICATOR.lastCodeDigest]?.S,
      };
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
      [PENDING_CHALLENGE.createdAt]: num(pending.createdAt),
      [PENDING_CHALLENGE.expiresAt]: num(pending.expiresAt),
      [PENDING_CHALLENGE.proved]: { BOOL: pending.proved },
    },
  };
}

function pendingChallengeFromAttribute(value: AttributeValue | undefined): PendingChallenge | undefined {
  const m = value?.M;
  const challenge = m?.[PENDING_CHALLENGE.challenge]?.S;
  if (!m || !challenge) return undefined;
  return {
    challenge,
    createdAt: readNum(m[PENDING_CHALLENGE.createdAt]) ?? 0,
    expiresAt: readNum(m[PENDING_CHALLENGE.expiresAt]) ?? 0,
    proved: m[PENDING_CHALLENGE.proved]?.BOOL ?? false,
  };
}

export function pendingEnrollmentToAttribute(pending: PendingEnrollment): AttributeValue {
  return {
    M: {
      [PENDING_ENROLLMENT.secret]: { B: pending.sealedSecret },
      [PENDING_ENROLLMENT.createdAt]: num(pending.createdAt),
      [PENDING_ENROLLMENT.expiresAt]: num(pending.expiresAt),
      [PENDING_ENROLLMENT.proved]: { BOOL: pending.proved },
    },
  };
}

function pendingEnrollmentFromAttribute(value: AttributeValue | undefined): PendingEnrollment | undefined {
  const m = value?.M;
  const secret = m?.[PENDING_ENROLLMENT.secret]?.B;
  if (!m || !secret) return undefined;
  return {
    sealedSecret: secret,
    createdAt: readNum(m[PENDING_ENROLLMENT.createdAt]) ?? 0,
    expiresAt: readNum(m[PENDING_ENROLLMENT.expiresAt]) ?? 0,
    proved: m[PENDING_ENROLLMENT.proved]?.BOOL ?? false,
  };
}

const readTimes = (value: AttributeValue | undefined): number[] | undefined => value?.L?.map((time) => Number(time.N ?? 0));
const timesAttribute = (times: readonly number[]): AttributeValue => ({ L: times.map(num) });

export function sessionToAttribute(entry: SessionLimits): AttributeValue {
  return {
    M: {
      [SESSION.proofTimes]: timesAttribute(entry.proofTimes),
      [SESSION.refundTimes]: timesAttribute(entry.refundTimes),
      [SESSION.replayEvents]: { M: Object.fromEntries(Object.entries(entry.replayEvents).map(([key, at]) => [key, num(at)])) },
      ...(entry.keyChallengeExpiresAt !== undefined ? { [SESSION.keyChallengeExpiresAt]: num(entry.keyChallengeExpiresAt) } : {}),
    },
  };
}

function sessionFromAttribute(value: AttributeValue): SessionLimits | undefined {
  const m = value.M;
  if (!m) return undefined;
  return {
    proofTimes: readTimes(m[SESSION.proofTimes]) ?? [],
    refundTimes: readTimes(m[SESSION.refundTimes]) ?? [],
    replayEvents: Object.fromEntries(Object.entries(m[SESSION.replayEvents]?.M ?? {}).map(([key, at]) => [key, Number(at.N ?? 0)])),
    keyChallengeExpiresAt: readNum(m[SESSION.keyChallengeExpiresAt]),
  };
}

/** A map attribute keyed by session id, read entry by entry (an unreadable entry is left out); undefined when absent. */
function bySession<T>(value: AttributeValue | undefined, read: (entry: AttributeValue) => T | undefined): Record<string, T> | undefined {
  if (!value?.M) return undefined;
  return Object.fromEntries(
    Object.entries(value.M).flatMap(([id, entry]) => {
      const found = read(entry);
      return found === undefined ? [] : [[id, found] as const];
    }),
  );
}

/** The spent sign-in challenges (nonce -> expiry); undefined when the item has none, as the next write must know. */
const spentChallengesFromAttribute = (value: AttributeValue | undefined): Record<string, number> | undefined => bySession(value, readNum);

export function deviceToAttribute(device: RememberedDevice): AttributeValue {
  const m: Item = {
    [DEVICE.name]: { S: device.name },
    [DEVICE.app]: { S: device.app },
    [DEVICE.x]: { S: device.publicKey.x },
    [DEVICE.y]: { S: device.publicKey.y },
    [DEVICE.createdAt]: num(device.createdAt),
    [DEVICE.expiresAt]: num(device.expiresAt),
    [DEVICE.authTime]: num(device.authTime),
  };
  if (device.lastUsedAt !== undefined) m[DEVICE.lastUsedAt] = num(device.lastUsedAt);
  return { M: m };
}

function deviceFromAttribute(id: string, value: AttributeValue): RememberedDevice | undefined {
  const m = value.M;
  const x = m?.[DEVICE.x]?.S;
  const y = m?.[DEVICE.y]?.S;
  if (!m || !x || !y) return undefined;
  return {
    id,
    name: m[DEVICE.name]?.S ?? '',
    app: m[DEVICE.app]?.S ?? '',
    publicKey: { x, y },
    createdAt: readNum(m[DEVICE.createdAt]) ?? 0,
    lastUsedAt: readNum(m[DEVICE.lastUsedAt]),
    expiresAt: readNum(m[DEVICE.expiresAt]) ?? 0,
    authTime: readNum(m[DEVICE.authTime]) ?? 0,
  };
}

export function deviceChallengeToAttribute(pending: PendingDeviceChallenge): AttributeValue {
  return {
    M: {
      [DEVICE_CHALLENGE.deviceId]: { S: pending.deviceId },
      [DEVICE_CHALLENGE.app]: { S: pending.app },
      [DEVICE_CHALLENGE.challenge]: { S: pending.challenge },
      [DEVICE_CHALLENGE.expiresAt]: num(pending.expiresAt),
    },
  };
}

function deviceChallengeFromAttribute(sessionId: string, value: AttributeValue): PendingDeviceChallenge | undefined {
  const m = value.M;
  const challenge = m?.[DEVICE_CHALLENGE.challenge]?.S;
  if (!m || !challenge) return undefined;
  return {
    sessionId,
    deviceId: m[DEVICE_CHALLENGE.deviceId]?.S ?? '',
    app: m[DEVICE_CHALLENGE.app]?.S ?? '',
    challenge,
    expiresAt: readNum(m[DEVICE_CHALLENGE.expiresAt]) ?? 0,
  };
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
  return {
    userId,
    authenticators: [...(legacy ? [legacy] : []), ...stored].sort(byCreation),
    recoveryCodeHashes: item[ATTR.recoveryCodes]?.SS ?? [],
    spentRecoveryCodeHashes: item[ATTR.spentRecoveryCodes]?.SS ?? [],
    spentRecoveryCodeDigests: item[ATTR.spentRecoveryCodeDigests]?.SS ?? [],
    pendingEnrollments: bySession(item[ATTR.pendingEnrollments], pendingEnrollmentFromAttribute),
    registrations: bySession(item[ATTR.registrations], pendingChallengeFromAttribute),
    sessions: bySession(item[ATTR.sessions], sessionFromAttribute),
    ceilingReportedAt: readNum(item[ATTR.ceilingReportedAt]),
    webauthnUserHandle: item[ATTR.userHandle]?.S,
    webauthnChallengeKey: item[ATTR.challengeKey]?.B,
    spentChallenges: spentChallengesFromAttribute(item[ATTR.spentChallenges]),
    emailLastCodeDigest: item[ATTR.emailLastCode]?.S,
    emailCodes: pendingEmailCodesFromAttribute(item[ATTR.emailCodes]),
    emailSends: item[ATTR.emailSends]?.L?.map((time) => Number(time.N ?? 0)),
    notifyAddress: item[ATTR.notifyAddress]?.S,
    failures: readNum(item[ATTR.failures]) ?? 0,
    lockedUntil: readNum(item[ATTR.lockedUntil]),
    windowStart: readNum(item[ATTR.windowStart]),
    windowFailures: readNum(item[ATTR.windowFailures]),
    proofTimes: readTimes(item[ATTR.proofTimes]),
    devices: Object.entries(item[ATTR.devices]?.M ?? {})
      .flatMap(([id, value]) => {
        const device = deviceFromAttribute(id, value);
        return device ? [device] : [];
      })
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)),
    deviceChallenges: Object.entries(item[ATTR.deviceChallenges]?.M ?? {}).flatMap(([sessionId, value]) => {
      const pending = deviceChallengeFromAttribute(sessionId, value);
      return pending ? [pending] : [];
    }),
    legacy: legacy !== undefined,
  };
}
