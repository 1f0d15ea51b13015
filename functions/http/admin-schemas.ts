// The namespace import lets esbuild drop what is unused (see schemas.ts).
import * as z from 'zod';
import { WITHOUT_CONTROL_OR_FORMAT } from './characters.js';
import { MfaStatusResponse } from './schemas.js';

/** Schemas of the operator routes (`/admin/v1`, IAM-authorised). */

/** The user's `sub` at the identity provider, as the first-factor token names it. */
const UserId = z
  .string()
  .min(1)
  .max(256)
  .regex(WITHOUT_CONTROL_OR_FORMAT, 'must not contain control or format characters')
  .meta({ description: "The user's subject (`sub`) at the identity provider.", example: 'alice' });

export const AdminUserPathParameters = z.strictObject({ userId: UserId });

export const AdminActionRequest = z
  .strictObject({
    reason: z
      .string()
      .min(1)
      .max(500)
      .regex(WITHOUT_CONTROL_OR_FORMAT, 'must not contain control or format characters')
      .meta({ description: 'Why the operator acts (1-500 characters, no control or format characters such as U+202E); written to the audit trail.', example: 'Ticket 4711: lost phone and recovery codes' }),
  })
  .meta({ id: 'AdminActionRequest' });

export const AdminMfaStatusResponse = MfaStatusResponse.extend({
  userId: UserId,
  lock: z.strictObject({
    locked: z.boolean(),
    failures: z.int().min(0).meta({ description: 'Consecutive failed code checks.' }),
    lockedUntil: z.iso.datetime().nullable().meta({ description: 'Until when code checks are refused; null when no lock stands.' }),
  }),
}).meta({
  id: 'AdminMfaStatus',
  example: {
    userId: 'alice',
    mfaEnabled: true,
    methods: { totp: { enabled: true, enrolledAt: '2026-11-28T12:00:00.000Z', lastUsedAt: null, count: 1 }, webauthn: { enabled: false, count: 0 }, email: { enabled: false, count: 0 } },
    recoveryCodes: { remaining: 9 },
    authenticators: [{ id: 'Jq3r8mZt0aXk2Vb9', kind: 'totp', name: 'Authenticator app', createdAt: '2026-11-28T12:00:00.000Z', lastUsedAt: null }],
    devices: [],
    lock: { locked: true, failures: 5, lockedUntil: '2026-11-29T08:30:30.000Z' },
  },
});
