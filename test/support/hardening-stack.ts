import { mkdtemp } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MfaServiceDeps } from '../../functions/service/mfa-service.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { testDynamoDbClient, testDynamoDbEndpoint } from './dynamodb.js';
import { ManualClock } from './fakes.js';
import { jsonRequest } from './raw-http.js';
import { codeAt } from './service.js';

export interface EnrolledUser {
  sub: string;
  token: string;
  secret: string;
  recoveryCodes: string[];
}

/**
 * The whole local stack (every handler behind the API Gateway stand-in) over a fresh table in
 * the shared DynamoDB Local, with a manual clock, plus helpers to set users up over HTTP.
 */
export async function startHardeningStack(overrides: Partial<MfaServiceDeps> = {}) {
  const clock = (overrides.clock as ManualClock | undefined) ?? new ManualClock();
  const dataDir = await mkdtemp(join(tmpdir(), 'mfa-hardening-'));
  const tableName = `mfa-hardening-${randomUUID()}`;
  const stack: LocalStack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName, overrides: { clock, ...overrides } });
  const client = testDynamoDbClient();

  const token = (sub: string) => stack.identity.issueToken({ sub, email: `${sub}@example.com` });
  const call = (method: string, path: string, tokenValue?: string, body?: unknown) => jsonRequest(stack.port, method, path, tokenValue, body);

  /** A user with a pending enrollment; returns its secret. */
  async function startEnrollment(sub = `user-${randomUUID()}`) {
    const bearer = await token(sub);
    const started = await call('POST', '/v1/mfa/totp/enrollment', bearer);
    if (started.status !== 201) throw new Error(`enrollment failed: ${started.status} ${started.text}`);
    return { sub, token: bearer, secret: started.json.secret as string };
  }

  /** A user with TOTP enabled at the current step (so the next usable code is one step later) and 10 recovery codes. */
  async function enrolledUser(sub = `user-${randomUUID()}`): Promise<EnrolledUser> {
    const pending = await startEnrollment(sub);
    const confirmed = await call('POST', '/v1/mfa/totp/enrollment/confirm', pending.token, { code: codeAt(pending.secret, clock) });
    if (confirmed.status !== 200) throw new Error(`confirmation failed: ${confirmed.status} ${confirmed.text}`);
    return { ...pending, recoveryCodes: confirmed.json.recoveryCodes };
  }

  return { stack, clock, client, tableName, dataDir, token, call, startEnrollment, enrolledUser, stop: () => stack.stop().finally(() => client.destroy()) };
}

export type HardeningStack = Awaited<ReturnType<typeof startHardeningStack>>;
