import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The worst logging configuration an operator could set: everything at DEBUG, and Powertools asked to log each event.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
});

import { userKey } from '../../functions/adapters/aws/mfa-item.js';
import { KmsSecretSealer } from '../../functions/adapters/aws/kms-secret-sealer.js';
import { LocalSecretSealer } from '../../functions/adapters/local/local-secret-sealer.js';
import type { SealContext, SecretSealer } from '../../functions/ports/secret-sealer.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { installFakeKms } from '../support/fake-kms.js';
import { ManualClock } from '../support/fakes.js';
import { captureProcessOutput } from '../support/output-capture.js';
import { jsonRequest } from '../support/raw-http.js';
import { codeAt, secretBytes } from '../support/service.js';
import { storedApps } from '../support/table-snapshot.js';

/** A sealer that fails once on demand, with an error whose message carries the secret it was opening. */
class IndiscreetSealer implements SecretSealer {
  failNext = false;
  constructor(private readonly inner: SecretSealer) {}
  seal(plaintext: Uint8Array, context: SealContext) {
    return this.inner.seal(plaintext, context);
  }
  async open(sealed: Uint8Array, context: SealContext) {
    const plaintext = await this.inner.open(sealed, context);
    if (this.failNext) {
      this.failNext = false;
      throw Object.assign(new Error(`decrypt failed for ${Buffer.from(plaintext).toString('hex')}`), { name: 'TimeoutError' });
    }
    return plaintext;
  }
}

const clock = new ManualClock();
let dataDir: string;
let stack: LocalStack;
let sealer: IndiscreetSealer;
let capture: ReturnType<typeof captureProcessOutput>;
/** Every secret value the run handled; none may show up in a log line or in DynamoDB's files. */
const secrets = { totpSecrets: [] as string[], codes: [] as string[], recoveryCodes: [] as string[], tokens: [] as string[] };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mfa-secrets-'));
  sealer = new IndiscreetSealer(LocalSecretSealer.inDataDir(dataDir));
  // Its own DynamoDB Local, on disk under dataDir, so that its files can be searched afterwards.
  stack = await startLocalStack({ dataDir, overrides: { clock, sealer }, changeEventLog: true });
  capture = captureProcessOutput();
  for (let i = 0; i < 3; i++) await journey(`secrets-${randomUUID()}`);
}, 120_000);
afterAll(async () => {
  capture?.stop();
  await stack?.stop();
});

/** Every response body but the enrollment's (the one place a TOTP secret is shown, once). */
const laterResponses: string[] = [];
const call = async (method: string, path: string, token?: string, body?: unknown) => {
  const response = await jsonRequest(stack.port, method, path, token, body);
  if (path !== '/v1/mfa/totp/enrollment') laterResponses.push(response.text);
  return response;
};

/** The whole journey, the failures too, for one user; records every secret it sees. */
async function journey(sub: string) {
  const token = await stack.identity.issueToken({ sub, email: `${sub}@example.com` });
  secrets.tokens.push(token);
  const started = await call('POST', '/v1/mfa/totp/enrollment', token);
  const secret: string = started.json.secret;
  secrets.totpSecrets.push(secret);
  const use = (offset = 0) => {
    const code = codeAt(secret, clock, offset);
    secrets.codes.push(code);
    return code;
  };
  expect((await call('POST', '/v1/mfa/totp/enrollment/confirm', token, { code: use() })).status).toBe(200);
  clock.advance(30_000);
  const confirmedCodes = (await call('POST', '/v1/mfa/recovery-codes', token, { code: use() })).json.recoveryCodes as string[];
  secrets.recoveryCodes.push(...confirmedCodes);
  clock.advance(30_000);
  const verified = await call('POST', '/v1/mfa/verify', token, { code: use() });
  expect(verified.status).toBe(200);
  secrets.tokens.push(verified.json.assertion);
  expect((await call('POST', '/v1/mfa/verify', token, { code: use() })).json.code).toBe('invalid_code'); // replay
  expect((await call('POST', '/v1/mfa/verify', token, { recoveryCode: confirmedCodes[0] })).status).toBe(200);
  expect((await call('POST', '/v1/mfa/verify', token, { recoveryCode: confirmedCodes[0] })).json.code).toBe('invalid_code');
  sealer.failNext = true;
  expect((await call('POST', '/v1/mfa/verify', token, { code: use(1) })).status).toBe(503);
  for (let i = 0; i < 5; i++) await call('POST', '/v1/mfa/verify', token, { code: String((Number(use()) + 1 + i) % 1_000_000).padStart(6, '0') });
  expect((await call('POST', '/v1/mfa/verify', token, { code: use(1) })).status).toBe(429);
  clock.advance(60_000);
  expect((await call('POST', '/v1/mfa/totp/enrollment/confirm', token, { code: use() })).status).toBe(409);
  return { sub, token, secret, recoveryCodes: confirmedCodes };
}

/** Every form a secret could be written in. */
function spellings(): string[] {
  return [
    ...secrets.totpSecrets.flatMap((base32) => {
      const bytes = Buffer.from(secretBytes(base32));
      return [base32, base32.toLowerCase(), bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
    }),
    ...secrets.recoveryCodes.flatMap((code) => [code, code.replace(/-/g, ''), code.toLowerCase()]),
    ...secrets.tokens.flatMap((token) => [token, token.split('.')[2]!]),
  ];
}

describe("one user's sealed secret never opens as another's", () => {
  it("refuses, in the local cipher, a secret moved into another user's item: that user cannot verify with the owner's codes", async () => {
    const token = async (sub: string) => {
      const issued = await stack.identity.issueToken({ sub });
      secrets.tokens.push(issued);
      return issued;
    };
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const enroll = async (sub: string) => {
      const bearer = await token(sub);
      const { json } = await call('POST', '/v1/mfa/totp/enrollment', bearer);
      secrets.totpSecrets.push(json.secret);
      await call('POST', '/v1/mfa/totp/enrollment/confirm', bearer, { code: codeAt(json.secret, clock) });
      return { bearer, secret: json.secret as string };
    };
    const a = await enroll(alice);
    const b = await enroll(bob);
    const client = new DynamoDBClient({ endpoint: stack.dynamoDbEndpoint });
    const { Item: aliceItem } = await client.send(new GetItemCommand({ TableName: stack.tableName, Key: userKey(alice) }));
    const { Item: bobItem } = await client.send(new GetItemCommand({ TableName: stack.tableName, Key: userKey(bob) }));
    await client.send(
      new UpdateItemCommand({
        TableName: stack.tableName,
        Key: userKey(bob),
        UpdateExpression: 'SET authenticators.#app.secret = :secret',
        ExpressionAttributeNames: { '#app': storedApps(bobItem)[0]!.id },
        ExpressionAttributeValues: { ':secret': { B: storedApps(aliceItem)[0]!.secret } },
      }),
    );
    client.destroy();
    clock.advance(30_000);
    const stolen = await call('POST', '/v1/mfa/verify', b.bearer, { code: codeAt(a.secret, clock) });
    expect(stolen.status).toBeGreaterThanOrEqual(400);
    expect(stolen.json.detail).not.toMatch(/authenticate|decrypt|cipher/i);
    expect((await call('POST', '/v1/mfa/verify', a.bearer, { code: codeAt(a.secret, clock) })).status).toBe(200);
  });

  it('refuses, through KMS, to decrypt one user\'s secret under another user\'s encryption context (KmsSecretSealer)', async () => {
    const fake = installFakeKms();
    try {
      const kmsSealer = new KmsSecretSealer(new KMSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), 'alias/mfa-totp');
      const secret = Buffer.from('12345678901234567890');
      const sealed = await kmsSealer.seal(secret, { purpose: 'totp-secret', userId: 'alice' });
      expect(Buffer.from(sealed).includes(secret)).toBe(false);
      await expect(kmsSealer.open(sealed, { purpose: 'totp-secret', userId: 'mallory' })).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
      await expect(kmsSealer.open(sealed, { purpose: 'totp-secret', userId: 'alice' })).resolves.toEqual(new Uint8Array(secret));
      const contexts = [...fake.mock.commandCalls(EncryptCommand), ...fake.mock.commandCalls(DecryptCommand)].map((call) => call.args[0].input.EncryptionContext);
      expect(contexts).toEqual([
        { service: 'serverless-mfa', purpose: 'totp-secret', userId: 'alice' },
        { service: 'serverless-mfa', purpose: 'totp-secret', userId: 'mallory' },
        { service: 'serverless-mfa', purpose: 'totp-secret', userId: 'alice' },
      ]);
    } finally {
      fake.mock.restore();
    }
  });
});

describe('secrets in responses', () => {
  it('shows a TOTP secret once, at enrollment: no later response carries it (NIST SP 800-63B 5.1.4.1: no cloning)', async () => {
    await call('GET', '/v1/mfa', secrets.tokens[0]);
    const secretSpellings = secrets.totpSecrets.flatMap((base32) => {
      const bytes = Buffer.from(secretBytes(base32));
      return [base32, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
    });
    expect(laterResponses.length).toBeGreaterThan(20);
    expect(laterResponses.filter((text) => secretSpellings.some((value) => text.includes(value)))).toEqual([]);
  });
});

describe('secrets at rest', () => {
  it("finds no plaintext TOTP secret or recovery code in DynamoDB Local's files or in a table scan", async () => {
    const client = new DynamoDBClient({ endpoint: stack.dynamoDbEndpoint });
    const scanned = JSON.stringify(await client.send(new ScanCommand({ TableName: stack.tableName })), (_key, value) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
    );
    client.destroy();
    expect(scanned).toContain('scrypt$'); // the data is there, hashed
    const atRest = spellings().filter((value) => !secrets.tokens.some((token) => token.includes(value)));
    expect(atRest.filter((value) => scanned.includes(value))).toEqual([]);

    await stack.stop(); // DynamoDB Local's files are complete once it has shut down
    const files = await filesUnder(join(dataDir, 'dynamodb'));
    expect(files.length).toBeGreaterThan(0);
    const raw = Buffer.concat(await Promise.all(files.map((file) => readFile(file))));
    expect(raw.includes('scrypt$')).toBe(true);
    const found = atRest.filter((value) => raw.includes(value));
    const rawSecrets = secrets.totpSecrets.filter((base32) => raw.includes(Buffer.from(secretBytes(base32))));
    expect({ found, rawSecrets }).toEqual({ found: [], rawSecrets: [] });
  }, 120_000);
});

describe('secrets in change events', () => {
  it('keeps every TOTP secret, code, recovery code and token out of the change events (events.jsonl, from the table stream)', async () => {
    const users = new Set<string>();
    let text = '';
    for (const started = Date.now(); Date.now() - started < 10_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
      text = await readFile(stack.eventsPath!, 'utf8').catch(() => '');
      const lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { detail: { event: string; userId: string } });
      for (const line of lines) if (line.detail.event === 'lockout.started') users.add(line.detail.userId);
      if (users.size >= 3) break;
    }
    expect(users.size).toBeGreaterThanOrEqual(3);
    for (const event of ['mfa.enabled', 'recovery_codes.regenerated', 'code.replay_refused', 'recovery_code.used']) expect(text).toContain(`"event":"${event}"`);
    expect(spellings().filter((value) => text.includes(value))).toEqual([]);
    const codePattern = new RegExp(`(?<![0-9A-Za-z])(${[...new Set(secrets.codes)].join('|')})(?![0-9A-Za-z])`);
    expect(text.split('\n').filter((line) => codePattern.test(line))).toEqual([]);
  });
});

// Last, so that it reads the log lines of everything above: journeys, failures, a 503, a 500 and lockouts.
describe('secrets in logs', () => {
  it('keeps every TOTP secret, code, recovery code and token out of every log line of this file, even at DEBUG with event logging asked for', async () => {
    const lines = capture.lines();
    // The capture saw the service's lines: audit events and the 503's error line.
    expect(lines.some((line) => line.includes('"audit":true') && line.includes('mfa.verify.succeeded'))).toBe(true);
    expect(lines.some((line) => line.includes('"level":"ERROR"') && line.includes('service_unavailable'))).toBe(true);
    const leaks = lines.filter((line) => spellings().some((value) => line.includes(value)));
    expect(leaks).toEqual([]);
    const codePattern = new RegExp(`(?<![0-9A-Za-z])(${[...new Set(secrets.codes)].join('|')})(?![0-9A-Za-z])`);
    expect(lines.filter((line) => codePattern.test(line))).toEqual([]);
    expect(lines.filter((line) => /authorization|bearer/i.test(line))).toEqual([]);
  });
});

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? filesUnder(join(directory, entry.name)) : [join(directory, entry.name)])));
  return nested.flat();
}
