import { execFile } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { apiUrlOfStack } from '../../scripts/admin/admin-client.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { ManualClock } from '../support/fakes.js';
import { jsonRequest } from '../support/raw-http.js';
import { codeAt } from '../support/service.js';

const TSX = resolve('node_modules/.bin/tsx');
const CLI = resolve('scripts/admin/cli.ts');
const FAKE_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLEFAKE00000', AWS_SECRET_ACCESS_KEY: 'fake/secret/key/for/tests/only/0000000000', AWS_SESSION_TOKEN: 'fake-session-token' };

/** Runs `npm run admin -- ...` as support staff would (same script, same arguments), without any AWS configuration of this machine. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return new Promise((resolveRun) => {
    execFile(
      TSX,
      [CLI, ...args],
      { env: { ...clean, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolveRun({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run admin against the local server', () => {
  let stack: LocalStack;
  let dataDir: string;
  const clock = new ManualClock();
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mfa-admin-cli-'));
    stack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName: `mfa-admin-cli-${randomUUID()}`, overrides: { clock } });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows, unlocks and resets a user with the dev admin token, and says why it refuses', async () => {
    const sub = `cli-${randomUUID()}`;
    const token = await stack.identity.issueToken({ sub });
    const { json: enrollment } = await jsonRequest(stack.port, 'POST', '/v1/mfa/totp/enrollment', token);
    await jsonRequest(stack.port, 'POST', '/v1/mfa/totp/enrollment/confirm', token, { code: codeAt(enrollment.secret, clock) });
    for (let i = 0; i < 5; i++) await jsonRequest(stack.port, 'POST', '/v1/mfa/verify', token, { code: '000000' });

    const status = await runCli(['status', '--user', sub, '--local', stack.url]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ userId: sub, mfaEnabled: true, lock: { locked: true, failures: 5 } });

    const [unlock, missingReason] = await Promise.all([
      runCli(['unlock', '--user', sub, '--reason', 'CLI test: unlock', '--local', stack.url]),
      runCli(['reset', '--user', sub, '--local', stack.url]),
    ]);
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(JSON.parse(unlock.stdout).lock).toEqual({ locked: false, failures: 0, lockedUntil: null });
    expect(missingReason.code).toBe(2);
    expect(missingReason.stderr).toContain('reset needs --reason');

    const [reset, unknown] = await Promise.all([
      runCli(['reset', '--user', sub, '--reason', 'CLI test: lost every factor', '--local', stack.url]),
      runCli(['status', '--user', 'nobody-known', '--local', stack.url]),
    ]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ mfaEnabled: false, authenticators: [], recoveryCodes: { remaining: 0 } });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('HTTP 404');
    expect(unknown.stderr).toContain('user_not_found');
  });

  it('finds the local server at http://localhost:$PORT without --local, as npm start listens', async () => {
    const status = await runCli(['status', '--user', 'nobody-known'], { PORT: String(stack.port) });
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('user_not_found');
  });

  it('names the URL it could not reach, and the PORT it read', async () => {
    const closedPort = await freePort();
    const [fromPort, fromDefault] = await Promise.all([
      runCli(['status', '--user', 'alice'], { PORT: String(closedPort) }),
      runCli(['status', '--user', 'alice', '--local', `http://127.0.0.1:${closedPort}`]),
    ]);
    expect(fromPort.code).toBe(1);
    expect(fromPort.stderr).toContain(`Could not reach http://localhost:${closedPort} (`);
    expect(fromPort.stderr).toContain('PORT');
    expect(fromDefault.stderr).toContain(`Could not reach http://127.0.0.1:${closedPort} (`);
    const badPort = await runCli(['status', '--user', 'alice'], { PORT: 'three thousand' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toContain('PORT must be a port number');
  });
});

/** A port nothing listens on: one the system just gave out and took back. */
function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolvePort) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    }),
  );
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** RFC 3986 escaping, as SigV4 wants it for each path segment and query part. */
const escape = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/**
 * The signature AWS would compute for the request as it arrived, written here from the SigV4
 * specification (not with the signer the CLI uses): execute-api encodes each path segment once
 * more, as every service except S3 does.
 */
function expectedSignature(request: Received, secretAccessKey: string, region: string): string {
  const [path, query = ''] = request.url.split('?');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(request.headers.authorization))![1]!.split(';');
  const amzDate = String(request.headers['x-amz-date']);
  const canonicalRequest = [
    request.method,
    path!.split('/').map(escape).join('/'),
    query
      .split('&')
      .filter(Boolean)
      .sort()
      .join('&'),
    signedHeaders.map((name) => `${name}:${String(request.headers[name]).trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders.join(';'),
    String(request.headers['x-amz-content-sha256'] ?? sha256(request.body)),
  ].join('\n');
  const scope = `${amzDate.slice(0, 8)}/${region}/execute-api/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = ['execute-api', 'aws4_request'].reduce((k, part) => hmac(k, part), hmac(hmac(`AWS4${secretAccessKey}`, amzDate.slice(0, 8)), region));
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

describe('npm run admin against a deployed API (a loopback server in its place)', () => {
  let server: Server;
  let port: number;
  const received: Received[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"userId":"alice@example.com","mfaEnabled":false}');
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

  it('signs each call with SigV4 for execute-api from the credential chain: credential scope, date, signed host and body', async () => {
    const before = new Date();
    const result = await runCli(['reset', '--user', 'alice@example.com', '--reason', 'Ticket 99', '--api-url', `http://127.0.0.1:${port}/`, '--region', 'eu-west-1'], FAKE_CREDENTIALS);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ userId: 'alice@example.com', mfaEnabled: false });

    const request = received.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/admin/v1/users/alice%40example.com/mfa/reset');
    expect(JSON.parse(request.body)).toEqual({ reason: 'Ticket 99' });
    expect(request.headers.host).toBe(`127.0.0.1:${port}`);
    const amzDate = String(request.headers['x-amz-date']);
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    const signedAt = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    expect(signedAt).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 1000) * 1000);
    expect(signedAt).toBeLessThanOrEqual(Date.now());
    expect(request.headers['x-amz-security-token']).toBe(FAKE_CREDENTIALS.AWS_SESSION_TOKEN);

    const authorization = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      String(request.headers.authorization),
    );
    expect(authorization, String(request.headers.authorization)).not.toBeNull();
    const [, accessKey, scopeDate, signedHeaders, signature] = authorization!;
    expect(accessKey).toBe(FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID);
    expect(scopeDate).toBe(amzDate.slice(0, 8));
    expect(signedHeaders!.split(';')).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type', 'x-amz-security-token']));
    expect(signature).toBe(expectedSignature(request, FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY, 'eu-west-1'));
    // A signature over another body or another secret would not match: the check above can fail.
    expect(signature).not.toBe(expectedSignature({ ...request, body: '{"reason":"Ticket 98"}', headers: { ...request.headers, 'x-amz-content-sha256': undefined } }, FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY, 'eu-west-1'));
    expect(signature).not.toBe(expectedSignature(request, 'another-secret', 'eu-west-1'));
  });

  it('signs a status read (GET, no body) the same way', async () => {
    const result = await runCli(['status', '--user', 'bob', '--api-url', `http://127.0.0.1:${port}`, '--region', 'us-east-1'], FAKE_CREDENTIALS);
    expect(result.code, result.stderr).toBe(0);
    const request = received.at(-1)!;
    expect([request.method, request.url, request.body]).toEqual(['GET', '/admin/v1/users/bob/mfa', '']);
    expect(String(request.headers.authorization)).toMatch(/Credential=AKIDEXAMPLEFAKE00000\/\d{8}\/us-east-1\/execute-api\/aws4_request/);
    expect(/Signature=([0-9a-f]{64})$/.exec(String(request.headers.authorization))![1]).toBe(expectedSignature(request, FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY, 'us-east-1'));
  });

  it('finds no credentials without failing open: nothing is sent unsigned', async () => {
    const count = received.length;
    const result = await runCli(['status', '--user', 'bob', '--api-url', `http://127.0.0.1:${port}`, '--region', 'us-east-1']);
    expect(result.code).not.toBe(0);
    expect(received.length).toBe(count);
  });
});

describe("the deployed API's URL", () => {
  it("comes from the stack's ApiUrl output", async () => {
    const cloudFormation = mockClient(CloudFormationClient);
    try {
      cloudFormation.on(DescribeStacksCommand, { StackName: 'ServerlessMfa' }).resolves({
        Stacks: [{ StackName: 'ServerlessMfa', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'ApiUrl', OutputValue: 'https://abc123.execute-api.eu-west-1.amazonaws.com/' }] }],
      });
      expect(await apiUrlOfStack(new CloudFormationClient({ region: 'eu-west-1' }), 'ServerlessMfa')).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/');
      cloudFormation.on(DescribeStacksCommand, { StackName: 'Other' }).resolves({ Stacks: [{ StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
      await expect(apiUrlOfStack(new CloudFormationClient({ region: 'eu-west-1' }), 'Other')).rejects.toThrow(/no ApiUrl output/);
    } finally {
      cloudFormation.restore();
    }
  });
});
