import { mkdtemp } from 'node:fs/promises';
import { Secret } from 'otpauth';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbMfaStore } from '../../functions/adapters/aws/dynamodb-mfa-store.js';
import { LocalAssertionSigner } from '../../functions/adapters/local/local-assertion-signer.js';
import { LocalSecretSealer } from '../../functions/adapters/local/local-secret-sealer.js';
import { cryptoRandom } from '../../functions/domain/random.js';
import { generateTotpCode } from '../../functions/methods/totp/totp.js';
import { MfaService, type Actor, type MfaServiceDeps } from '../../functions/service/mfa-service.js';
import { createTestTable, testDynamoDbClient } from './dynamodb.js';
import { ManualClock, RecordingAuditLog } from './fakes.js';

export const TEST_SETTINGS = {
  totpIssuer: 'Acme',
  assertionIssuer: 'https://mfa.example.test',
  audienceMap: {},
  assertionTtlSeconds: 300,
  enrollmentTtlSeconds: 600,
  rememberDeviceDays: 30,
  relyingParty: { id: 'localhost', name: 'Acme', origins: ['http://localhost:3000'] },
  /** The operators of the service-level tests: a support role (any of its sessions) and the local admin. */
  adminPrincipalArns: ['arn:aws:iam::111122223333:role/support', 'arn:aws:iam::000000000000:user/local-admin'],
};

/** The MFA service over a fresh table in the real DynamoDB Local, with local keys and a manual clock. */
export async function createTestService(overrides: Partial<MfaServiceDeps> = {}) {
  const client = testDynamoDbClient();
  const tableName = await createTestTable(client);
  const dataDir = await mkdtemp(join(tmpdir(), 'mfa-test-'));
  const clock = new ManualClock();
  const audit = new RecordingAuditLog();
  const deps: MfaServiceDeps = {
    store: new DynamoDbMfaStore(client, tableName),
    sealer: LocalSecretSealer.inDataDir(dataDir),
    signer: LocalAssertionSigner.inDataDir(dataDir),
    audit,
    clock,
    random: cryptoRandom,
    settings: TEST_SETTINGS,
    ...overrides,
  };
  return { service: new MfaService(deps), deps, client, tableName, dataDir, clock, audit };
}

let counter = 0;
export function newActor(prefix = 'user'): Actor {
  counter += 1;
  const userId = `${prefix}-${process.pid}-${Date.now()}-${counter}`;
  const sessionId = `session-${counter}`;
  return { userId, accountName: `${userId}@example.com`, audience: 'acme-app', sessionId, audit: { requestId: `req-${counter}`, sourceIp: '198.51.100.7', sessionId } };
}

/** Another first-factor session of the same user (a second sign-in, or a password holder's). */
export function otherSessionOf(actor: Actor): Actor {
  counter += 1;
  const sessionId = `session-${counter}`;
  return { ...actor, sessionId, audit: { ...actor.audit, requestId: `req-${counter}`, sessionId } };
}

/** Decodes the base32 secret the enrollment returned, as an authenticator app would. */
export function secretBytes(base32: string): Uint8Array {
  return Secret.fromBase32(base32).bytes;
}

export function codeAt(base32: string, clock: ManualClock, offsetSteps = 0): string {
  return generateTotpCode(secretBytes(base32), clock.now() + offsetSteps * 30_000);
}
