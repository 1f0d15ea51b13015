import { mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMfaAuthorizer, handler as authorizerFromEnvironment } from '../../examples/api-gateway-authorizer/authorizer.js';
import { freePort } from '../../local/dynamodb-local.js';
import { LOCAL_APP_AUDIENCE, startLocalStack, type LocalStack } from '../../local/local-stack.js';
import type { LambdaAuthorizedRoute } from '../../local/server.js';
import { createDynamoDbReplayCache } from '../../verifier/dynamodb-replay-cache.js';
import { createMfaVerifier } from '../../verifier/index.js';
import { testDynamoDbClient, testDynamoDbEndpoint } from '../support/dynamodb.js';
import { mfaAssertion, signUpWithTotp, type SignedUpUser } from '../support/mfa-user.js';
import { rawRequest } from '../support/raw-http.js';

let dataDir: string;
let stack: LocalStack;
let client: DynamoDBClient;
let replayTable: string;
let alice: SignedUpUser;
const refusals: string[] = [];
const savedEnv = { ...process.env };

/** The app's own function behind the authorizer: shows what the authorizer handed it. */
const appFunction: LambdaAuthorizedRoute['handler'] = async (event: APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ authorizer: event.requestContext.authorizer.lambda }),
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mfa-example-authorizer-'));
  client = testDynamoDbClient();
  replayTable = `mfa-example-replay-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: replayTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  // The issuer URL contains the port, and the authorizers need it before the stack starts.
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  Object.assign(process.env, { MFA_ISSUER: issuer, MFA_AUDIENCE: LOCAL_APP_AUDIENCE, MFA_REPLAY_TABLE: replayTable, AWS_ENDPOINT_URL_DYNAMODB: testDynamoDbEndpoint() });
  const identitySource = ['$request.header.mfa-assertion'];
  stack = await startLocalStack({
    dataDir,
    port,
    dynamoDbEndpoint: testDynamoDbEndpoint(),
    tableName: `mfa-example-${randomUUID()}`,
    lambdaAuthorizedRoutes: [
      {
        method: 'POST',
        path: '/payments',
        name: 'payments',
        handler: appFunction,
        authorizer: {
          name: 'mfa-authorizer',
          identitySource,
          handler: createMfaAuthorizer({
            verifier: createMfaVerifier({ issuer, audience: LOCAL_APP_AUDIENCE, replayCache: createDynamoDbReplayCache({ client, tableName: replayTable }) }),
            onRefused: (reason) => refusals.push(reason),
          }),
        },
      },
      // The module's own `handler`, configured from the environment as in Lambda.
      { method: 'POST', path: '/payments-env', name: 'payments', handler: appFunction, authorizer: { name: 'mfa-authorizer-env', identitySource, handler: authorizerFromEnvironment } },
    ],
  });
  alice = await signUpWithTotp(stack, `alice-${randomUUID()}`);
});
afterAll(async () => {
  process.env = savedEnv;
  await stack?.stop();
  await client?.send(new DeleteTableCommand({ TableName: replayTable }));
  client?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

async function pay(path: string, headers: Record<string, string>) {
  const response = await rawRequest(stack.port, { method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body: '{"amount":5}' });
  return { status: response.status, body: response.json };
}

describe('examples/api-gateway-authorizer behind the local API Gateway stand-in (payload 2.0, simple responses)', () => {
  it('lets a request through with a fresh assertion whose nonce is the sign-in cookie, and hands the function the user', async () => {
    const nonce = 'sign-in-nonce-1';
    const assertion = await mfaAssertion(stack, alice, nonce);
    const allowed = await pay('/payments', { 'mfa-assertion': assertion, cookie: `theme=dark; mfa_nonce=${nonce}` });
    expect(allowed).toEqual({ status: 200, body: { authorizer: { userId: alice.sub, amr: 'mfa otp', mfaAt: expect.any(Number) } } });
    expect(Math.abs(allowed.body.authorizer.mfaAt - Date.now() / 1000)).toBeLessThan(60);
  });

  it('answers as API Gateway does: 401 without the identity source, 403 for every refused assertion', async () => {
    refusals.length = 0;
    const nonce = 'sign-in-nonce-2';
    expect(await pay('/payments', { cookie: `mfa_nonce=${nonce}` })).toEqual({ status: 401, body: { message: 'Unauthorized' } });

    const assertion = await mfaAssertion(stack, alice, nonce);
    const forbidden = { status: 403, body: { message: 'Forbidden' } };
    expect(await pay('/payments', { 'mfa-assertion': assertion })).toEqual(forbidden);
    expect(await pay('/payments', { 'mfa-assertion': assertion, cookie: 'mfa_nonce=another-sign-in' })).toEqual(forbidden);
    expect(await pay('/payments', { 'mfa-assertion': `${assertion.slice(0, -4)}AAAA`, cookie: `mfa_nonce=${nonce}` })).toEqual(forbidden);
    expect(refusals).toEqual(['no_nonce', 'wrong_nonce', 'bad_signature']);
    // Refused attempts did not use the assertion up; its first good use does, in the replay table.
    expect((await pay('/payments', { 'mfa-assertion': assertion, cookie: `mfa_nonce=${nonce}` })).status).toBe(200);
    expect(await pay('/payments', { 'mfa-assertion': assertion, cookie: `mfa_nonce=${nonce}` })).toEqual(forbidden);
    expect(refusals.at(-1)).toBe('replayed');
  });

  it('works the same when configured from the environment, sharing the replay table with the other route', async () => {
    const nonce = 'sign-in-nonce-3';
    const assertion = await mfaAssertion(stack, alice, nonce);
    const allowed = await pay('/payments-env', { 'mfa-assertion': assertion, cookie: `mfa_nonce=${nonce}` });
    expect(allowed.status).toBe(200);
    expect(allowed.body.authorizer.userId).toBe(alice.sub);
    expect(await pay('/payments', { 'mfa-assertion': assertion, cookie: `mfa_nonce=${nonce}` })).toEqual({ status: 403, body: { message: 'Forbidden' } });
  });
});
