import { authenticatorsOf, mfaEnabled, type Authenticator, type MfaRecord } from '../domain/mfa-record.js';
import { maskEmail } from '../methods/email/email-codes.js';
import type { AuthenticatorKind } from '../methods/kinds.js';
import { iso } from './context.js';
import { deviceViews, type DeviceView } from './remembered-devices.js';

/** One authenticator as its owner (and an operator) may see it: never a secret or a public key. */
export interface AuthenticatorView {
  id: string;
  kind: AuthenticatorKind;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  transports?: string[];
  backedUp?: boolean;
  /** Email only: the address codes go to, masked (`a***@example.com`). */
  address?: string;
}

export interface MfaStatus {
  mfaEnabled: boolean;
  methods: {
    totp: { enabled: boolean; enrolledAt: string | null; lastUsedAt: string | null; count: number };
    webauthn: { enabled: boolean; count: number };
    email: { enabled: boolean; count: number };
  };
  recoveryCodes: { remaining: number };
  authenticators: AuthenticatorView[];
  /** Remembered browsers of every app (expired ones are gone). */
  devices: DeviceView[];
}

export function authenticatorView(authenticator: Authenticator): AuthenticatorView {
  const view: AuthenticatorView = {
    id: authenticator.id,
    kind: authenticator.kind,
    name: authenticator.name,
    createdAt: iso(authenticator.createdAt)!,
    lastUsedAt: iso(authenticator.lastUsedAt),
  };
  if (authenticator.kind === 'webauthn') {
    view.transports = [...authenticator.transports];
    view.backedUp = authenticator.backedUp;
  }
  if (authenticator.kind === 'email') view.address = maskEmail(authenticator.address);
  return view;
}

const latest = (values: Array<number | undefined>): number | undefined => {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
};

export function statusOf(record: MfaRecord | undefined, now: number): MfaStatus {
  const apps = authenticatorsOf(record, 'totp');
  const keys = authenticatorsOf(record, 'webauthn');
  const emails = authenticatorsOf(record, 'email');
  const enabled = mfaEnabled(record);
  return {
    mfaEnabled: enabled,
    methods: {
      totp: {
        enabled: apps.length > 0,
        enrolledAt: apps.length > 0 ? iso(Math.min(...apps.map((app) => app.createdAt))) : null,
        lastUsedAt: iso(latest(apps.map((app) => app.lastUsedAt))),
        count: apps.length,
      },
      webauthn: { enabled: keys.length > 0, count: keys.length },
      email: { enabled: emails.length > 0, count: emails.length },
    },
    recoveryCodes: { remaining: enabled ? record!.recoveryCodeHashes.length : 0 },
    authenticators: (record?.authenticators ?? []).map(authenticatorView),
    devices: deviceViews(record, now),
  };
}
