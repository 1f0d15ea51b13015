import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDbMfaStore } from '../functions/adapters/aws/dynamodb-mfa-store.js';
import { createServices, dynamoDbClientConfig, KMS_CLIENT_CONFIG } from '../functions/composition.js';
import type { Clock } from '../functions/domain/clock.js';
import type { LambdaHttpHandler } from '../functions/http/lambda-handler.js';
import { routeById, type RouteId } from '../functions/http/routes.js';
import { loadRouteHandlers } from '../local/local-stack.js';
import { ensureMfaTable } from '../local/mfa-table.js';
import { InProcessKms } from './in-process-kms.js';
import { InProcessSes } from './in-process-ses.js';
import { ManualClock } from './manual-clock.js';
import { codeAt, wrongCodeAt } from './authenticator.js';
import { apiGatewayEvent, lambdaContext } from './lambda-invoke.js';
import { DeviceKey } from './device-key.js';
import { SoftwareAuthenticator } from './software-authenticator.js';
import type { AwsCall, ScenarioName } from './minimum-aws-calls.js';

export { MINIMUM_AWS_CALLS, type AwsCall, type AwsScenario, type ScenarioName } from './minimum-aws-calls.js';

/**
 * Records every HTTP attempt an SDK client sends (retries included), as IAM names the action,
 * and how long it took from there on (the round trip and the response's deserialisation).
 * It sits in the finalizeRequest step below the retry middleware, so each attempt counts.
 */
export class AwsCallCounter {
  private calls: { call: AwsCall; ms: number }[] = [];

  attach(client: DynamoDBClient | KMSClient | SESv2Client, service: 'dynamodb' | 'kms' | 'ses'): void {
    // Both clients share the SDK's middleware stack type; the union of their input types is not callable as such.
    (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
      (next, context) => async (args) => {
        const command = String(context.commandName).replace(/Command$/, '');
        const entry = { call: (command === 'TransactWriteItems' ? transactionCall(args.request) : `${service}:${command}`) as AwsCall, ms: 0 };
        this.calls.push(entry);
        const started = performance.now();
        try {
          return await next(args);
        } finally {
          entry.ms = performance.now() - started;
        }
      },
      { step: 'finalizeRequest', priority: 'low', name: 'benchCountAwsCalls', override: true },
    );
  }

  /** The calls since the last take, in order, with their durations. */
  takeTimed(): { call: AwsCall; ms: number }[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }

  /** The calls since the last take, in order. */
  take(): AwsCall[] {
    return this.takeTimed().map((entry) => entry.call);
  }
}

/** IAM's name of each kind of item a transaction writes: IAM authorises a transaction item by item. */
const TRANSACTION_ITEM_ACTIONS: Record<string, string> = { Update: 'UpdateItem', Put: 'PutItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };

/** A TransactWriteItems call with the actions of its items, in order: `dynamodb:TransactWriteItems(UpdateItem+PutItem)`. */
function transactionCall(request: unknown): AwsCall {
  const body = (request as { body?: unknown } | undefined)?.body;
  const text = typeof body === 'string' ? body : ArrayBuffer.isView(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : undefined;
  const items = (text ? (JSON.parse(text) as { TransactItems?: Record<string, unknown>[] }).TransactItems : undefined) ?? [];
  return `dynamodb:TransactWriteItems(${items.map((item) => TRANSACTION_ITEM_ACTIONS[Object.keys(item)[0]!] ?? '?').join('+')})`;
}

/** The IAM actions a counted call needs: a transaction's are those of its items. */
export function iamActionsOf(call: AwsCall): string[] {
  const transaction = /^dynamodb:TransactWriteItems\((.*)\)$/.exec(call);
  return transaction ? transaction[1]!.split('+').map((action) => `dynamodb:${action}`) : [call];
}

/** Key ids in the ARN form the stack passes; the in-process KMS accepts any. */
export const BENCH_KEY_IDS = {
  totp: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  signing: 'arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321',
};

/** The role the operator routes admit here; the scenarios call them as one of its sessions. */
export const BENCH_OPERATOR_ROLE = 'arn:aws:iam::111122223333:role/support';

export interface InvokeResult {
  status: number;
  json: any;
  calls: AwsCall[];
  /** Time spent in DynamoDB round trips (DynamoDB Local here), to tell the function's own work from storage latency. */
  dynamoDbMs: number;
}

export interface AwsHarness {
  tableName: string;
  counter: AwsCallCounter;
  dynamoDb: DynamoDBClient;
  kms: KMSClient;
  /** The mails the functions sent through SES (answered in-process). */
  ses: InProcessSes;
  /** The storage adapter over the same DynamoDB client the functions use. */
  store: DynamoDbMfaStore;
  /** Invokes a route's handler as Lambda would (one container per route) and returns the calls it made. */
  invoke(route: RouteId, options?: { sub?: string; sessionId?: string; operatorArn?: string; body?: unknown; pathParameters?: Record<string, string> }): Promise<InvokeResult>;
  close(): void;
}

/**
 * Every route's handler composed with the real AWS adapters, as in Lambda: DynamoDB is
 * DynamoDB Local, KMS is answered in-process at the HTTP layer, and both SDK clients count
 * their calls.
 */
export async function startAwsHarness(options: { dynamoDbEndpoint: string; clock: Clock; tableName?: string }): Promise<AwsHarness> {
  const tableName = options.tableName ?? `mfa-aws-calls-${randomUUID()}`;
  const counter = new AwsCallCounter();
  const dynamoDb = new DynamoDBClient(dynamoDbClientConfig({ dynamoDbEndpoint: options.dynamoDbEndpoint }));
  await ensureMfaTable(dynamoDb, tableName);
  const kms = new InProcessKms().client(KMS_CLIENT_CONFIG);
  counter.attach(dynamoDb, 'dynamodb');
  counter.attach(kms, 'kms');
  const ses = new InProcessSes();
  const sesClient = ses.client({ maxAttempts: 2 });
  counter.attach(sesClient, 'ses');

  const env: NodeJS.ProcessEnv = {
    MFA_ADAPTERS: 'aws',
    MFA_TABLE_NAME: tableName,
    MFA_TOTP_KEY_ID: BENCH_KEY_IDS.totp,
    MFA_SIGNING_KEY_ID: BENCH_KEY_IDS.signing,
    MFA_ISSUER: 'https://mfa.example.com',
    MFA_FIRST_FACTOR_AUDIENCES: 'serverless-mfa-app',
    MFA_WEBAUTHN_RP_ID: 'mfa.example.com',
    MFA_WEBAUTHN_ORIGINS: 'https://mfa.example.com',
    MFA_EMAIL_CODES: 'true',
    MFA_EMAIL_FROM: 'no-reply@mfa.example.com',
    MFA_EMAIL_CONFIGURATION_SET: 'mfa-mail',
    MFA_ADMIN_PRINCIPAL_ARNS: BENCH_OPERATOR_ROLE,
  };
  const modules = await loadRouteHandlers();
  const handlers = new Map<string, LambdaHttpHandler>();
  for (const [id, module] of modules) {
    const route = routeById(id as RouteId);
    handlers.set(id, module.withServices(createServices(route, env, { clock: options.clock }, { ports: module.ports, clients: { dynamoDb, kms, ses: sesClient } })));
  }

  return {
    tableName,
    counter,
    dynamoDb,
    kms,
    ses,
    store: new DynamoDbMfaStore(dynamoDb, tableName),
    async invoke(id, invokeOptions = {}) {
      const route = routeById(id);
      counter.take();
      const result = await handlers.get(id)!(apiGatewayEvent(route, invokeOptions), lambdaContext(route));
      const timed = counter.takeTimed();
      return {
        status: result.statusCode ?? 200,
        json: result.body ? JSON.parse(result.body) : undefined,
        calls: timed.map((entry) => entry.call),
        dynamoDbMs: timed.filter((entry) => entry.call.startsWith('dynamodb:')).reduce((sum, entry) => sum + entry.ms, 0),
      };
    },
    close() {
      dynamoDb.destroy();
      kms.destroy();
      sesClient.destroy();
    },
  };
}

/** Runs every scenario of MINIMUM_AWS_CALLS once through the real AWS adapters and returns the calls each made. */
export async function measureAwsCalls(options: { dynamoDbEndpoint: string }): Promise<Record<ScenarioName, AwsCall[]>> {
  const clock = new ManualClock();
  const code = (secret: string, offsetSteps = 0) => codeAt(secret, clock.now(), offsetSteps);
  const harness = await startAwsHarness({ dynamoDbEndpoint: options.dynamoDbEndpoint, clock });
  const measured = {} as Record<ScenarioName, AwsCall[]>;
  const expectStatus = (name: ScenarioName, result: InvokeResult, status: number) => {
    if (result.status !== status) throw new Error(`${name}: expected HTTP ${status}, got ${result.status} ${JSON.stringify(result.json)}`);
    measured[name] = result.calls;
    return result;
  };
  const nextStep = () => clock.advance(30_000);

  try {
    expectStatus('getOpenIdConfiguration', await harness.invoke('getOpenIdConfiguration'), 200);
    expectStatus('getJwks (first in a container)', await harness.invoke('getJwks'), 200);
    expectStatus('getJwks (warm)', await harness.invoke('getJwks'), 200);

    const sub = `aws-calls-${randomUUID()}`;
    const started = expectStatus('startTotpEnrollment', await harness.invoke('startTotpEnrollment', { sub, body: {} }), 201);
    const secret: string = started.json.secret;
    const confirmed = expectStatus('confirmTotpEnrollment', await harness.invoke('confirmTotpEnrollment', { sub, body: { code: code(secret) } }), 200);
    const recoveryCodes: string[] = confirmed.json.recoveryCodes;
    expectStatus('getMfaStatus', await harness.invoke('getMfaStatus', { sub }), 200);

    nextStep();
    expectStatus('verifyMfa (TOTP)', await harness.invoke('verifyMfa', { sub, body: { code: code(secret) } }), 200);
    expectStatus('verifyMfa (recovery code)', await harness.invoke('verifyMfa', { sub, body: { recoveryCode: recoveryCodes[0] } }), 200);
    const secondSession = `${sub}-second-sign-in`;
    expectStatus(
      "verifyMfa (recovery code, a session's first check)",
      await harness.invoke('verifyMfa', { sub, sessionId: secondSession, body: { recoveryCode: recoveryCodes[1] } }),
      200,
    );
    expectStatus('verifyMfa (wrong code)', await harness.invoke('verifyMfa', { sub, body: { code: wrongCodeAt(secret, clock.now()) } }), 400);

    // A remembered browser: remembered with a code, then signing in by itself; forgotten one at a time and all at once.
    const browser = new DeviceKey();
    nextStep();
    const remembering = { code: code(secret), rememberDevice: { publicKey: browser.publicJwk, name: 'Chrome on Linux' } };
    const deviceId: string = expectStatus('verifyMfa (TOTP, remember this browser)', await harness.invoke('verifyMfa', { sub, body: remembering }), 200).json.device.id;
    const deviceChallenge = expectStatus('startDeviceChallenge', await harness.invoke('startDeviceChallenge', { sub, body: { deviceId } }), 201);
    expectStatus('verifyMfa (remembered browser)', await harness.invoke('verifyMfa', { sub, body: browser.proof(deviceId, deviceChallenge.json.challenge) }), 200);
    expectStatus('forgetDevice', await harness.invoke('forgetDevice', { sub, body: {}, pathParameters: { id: deviceId } }), 200);
    nextStep();
    await harness.invoke('verifyMfa', { sub, body: { code: code(secret), rememberDevice: { publicKey: new DeviceKey().publicJwk } } });
    expectStatus('forgetAllDevices', await harness.invoke('forgetAllDevices', { sub, body: {} }), 200);
    nextStep();
    expectStatus('regenerateRecoveryCodes (TOTP)', await harness.invoke('regenerateRecoveryCodes', { sub, body: { code: code(secret) } }), 200);
    nextStep();
    expectStatus('disableTotp (TOTP)', await harness.invoke('disableTotp', { sub, body: { code: code(secret) } }), 200);

    // A security key as the first method, then a sign-in with it (a software authenticator on node:crypto).
    const keyUser = `aws-calls-key-${randomUUID()}`;
    const key = new SoftwareAuthenticator({ origin: 'https://mfa.example.com', rpId: 'mfa.example.com' });
    const registration = expectStatus('startWebAuthnRegistration (first method)', await harness.invoke('startWebAuthnRegistration', { sub: keyUser, body: {} }), 201);
    expectStatus(
      'confirmWebAuthnRegistration (first method)',
      await harness.invoke('confirmWebAuthnRegistration', { sub: keyUser, body: { credential: key.register(registration.json.options) } }),
      200,
    );
    const challenge = expectStatus('startWebAuthnChallenge', await harness.invoke('startWebAuthnChallenge', { sub: keyUser, body: {} }), 201);
    expectStatus('verifyMfa (security key)', await harness.invoke('verifyMfa', { sub: keyUser, body: { webauthn: key.assert(challenge.json.options) } }), 200);

    // Removing a key with its own assertion: its credential id's uniqueness item goes in the same transaction.
    const keyRemover = `aws-calls-key-remover-${randomUUID()}`;
    const removedKey = new SoftwareAuthenticator({ origin: 'https://mfa.example.com', rpId: 'mfa.example.com' });
    const removerOptions = (await harness.invoke('startWebAuthnRegistration', { sub: keyRemover, body: {} })).json.options;
    const removerKeyId: string = (await harness.invoke('confirmWebAuthnRegistration', { sub: keyRemover, body: { credential: removedKey.register(removerOptions) } })).json.authenticator.id;
    const removerChallenge = (await harness.invoke('startWebAuthnChallenge', { sub: keyRemover, body: {} })).json.options;
    expectStatus(
      'removeAuthenticator (security key)',
      await harness.invoke('removeAuthenticator', { sub: keyRemover, body: { webauthn: removedKey.assert(removerChallenge) }, pathParameters: { id: removerKeyId } }),
      200,
    );

    // The operator routes, as the IAM authorizer hands them over.
    const operatorArn = 'arn:aws:sts::111122223333:assumed-role/support/alice';  // a session of BENCH_OPERATOR_ROLE
    expectStatus('adminGetMfaStatus', await harness.invoke('adminGetMfaStatus', { operatorArn, pathParameters: { userId: keyUser } }), 200);
    expectStatus('adminUnlockMfa', await harness.invoke('adminUnlockMfa', { operatorArn, pathParameters: { userId: keyUser }, body: { reason: 'ticket 42' } }), 200);
    expectStatus('adminResetMfa', await harness.invoke('adminResetMfa', { operatorArn, pathParameters: { userId: keyUser }, body: { reason: 'ticket 42: lost every factor' } }), 200);

    const owner = `aws-calls-owner-${randomUUID()}`;
    const ownerSecret: string = (await harness.invoke('startTotpEnrollment', { sub: owner, body: {} })).json.secret;
    await harness.invoke('confirmTotpEnrollment', { sub: owner, body: { code: code(ownerSecret) } });
    const app: string = (await harness.invoke('getMfaStatus', { sub: owner })).json.authenticators[0].id;
    expectStatus('startWebAuthnChallenge (no security key)', await harness.invoke('startWebAuthnChallenge', { sub: owner, body: {} }), 409);
    expectStatus('renameAuthenticator', await harness.invoke('renameAuthenticator', { sub: owner, body: { name: 'Phone' }, pathParameters: { id: app } }), 200);
    nextStep();
    expectStatus('startWebAuthnRegistration (TOTP proof)', await harness.invoke('startWebAuthnRegistration', { sub: owner, body: { code: code(ownerSecret) } }), 201);
    nextStep();
    expectStatus('removeAuthenticator (TOTP)', await harness.invoke('removeAuthenticator', { sub: owner, body: { code: code(ownerSecret) }, pathParameters: { id: app } }), 200);

    // Email codes as the first method, then a sign-in with an emailed code (SES answered in-process).
    const mailUser = `aws-calls-mail-${randomUUID()}`;
    expectStatus('startEmailEnrollment (first method)', await harness.invoke('startEmailEnrollment', { sub: mailUser, body: {} }), 201);
    expectStatus('confirmEmailEnrollment', await harness.invoke('confirmEmailEnrollment', { sub: mailUser, body: { code: harness.ses.latestCode() } }), 200);
    expectStatus('startEmailChallenge', await harness.invoke('startEmailChallenge', { sub: mailUser, body: {} }), 201);
    expectStatus('verifyMfa (email code)', await harness.invoke('verifyMfa', { sub: mailUser, body: { emailCode: harness.ses.latestCode() } }), 200);

    // Locked out: five wrong codes, then the sixth attempt is refused on the stored lockout.
    const locked = `aws-calls-locked-${randomUUID()}`;
    const lockedSecret: string = (await harness.invoke('startTotpEnrollment', { sub: locked, body: {} })).json.secret;
    await harness.invoke('confirmTotpEnrollment', { sub: locked, body: { code: code(lockedSecret) } });
    const wrongForLocked = wrongCodeAt(lockedSecret, clock.now());
    for (let attempt = 0; attempt < 5; attempt++) await harness.invoke('verifyMfa', { sub: locked, body: { code: wrongForLocked } });
    expectStatus('verifyMfa (locked out)', await harness.invoke('verifyMfa', { sub: locked, body: { code: code(lockedSecret, 1) } }), 429);
  } finally {
    harness.close();
  }
  return measured;
}
