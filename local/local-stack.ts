import { resolve, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createServices, type PortFactories } from '../functions/composition.js';
import type { LambdaHttpHandler } from '../functions/http/lambda-handler.js';
import { inputSchemasOf, ROUTES, type RouteDefinition } from '../functions/http/routes.js';
import type { MfaServiceDeps } from '../functions/service/mfa-service.js';
import { DevAdminTokenRequest, DevIdentityProvider, DevTokenRequest, LOCAL_ADMIN_PRINCIPAL } from './dev-identity-provider.js';
import { freePort, LOCAL_AWS_ENV, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { ChangeEventLog } from './change-event-log.js';
import { startMailDev, type LocalMailDev } from './maildev.js';
import { LocalSecurityNotifier } from './security-notifier.js';
import { ensureMfaTable } from './mfa-table.js';
import { createLocalServer, send, type ExtraRoute, type LocalServerOptions } from './server.js';
import { docsRoutes } from './docs-routes.js';
import { webRoutes } from './web-routes.js';
import { ServiceSettingRules } from '../functions/settings-schema.js';
import { problemResponse } from '../functions/http/lambda-handler.js';
import { InvalidRequestError } from '../functions/http/problems.js';
import { useCompiledCheck } from '../functions/http/precompiled-schema.js';
import { compiledCheck } from '../lib/precompiled-schemas.js';

export const LOCAL_TABLE_NAME = 'serverless-mfa-local';
export const LOCAL_APP_AUDIENCE = 'serverless-mfa-local-app';

export interface LocalStackOptions {
  /** Where DynamoDB Local's files and the local keys live. */
  dataDir: string;
  port?: number;
  /** Use an already running DynamoDB Local instead of starting one (tests share one). */
  dynamoDbEndpoint?: string;
  /** Keep DynamoDB data in memory instead of under dataDir. */
  inMemory?: boolean;
  tableName?: string;
  /** Replaces ports or the clock in every handler (tests). */
  overrides?: Partial<MfaServiceDeps>;
  extraRoutes?: ExtraRoute[];
  /** Authorization scopes per route id (tests; the route table configures none yet). */
  routeScopes?: LocalServerOptions['routeScopes'];
  lambdaAuthorizedRoutes?: LocalServerOptions['lambdaAuthorizedRoutes'];
  /** Append the table stream's change events to `<dataDir>/events.jsonl` (`npm start` does), and mail security notices when mail is on. */
  changeEventLog?: boolean;
  /**
   * Mail: `maildev` starts MailDev on loopback (`npm start` does; ports as in local/maildev.ts,
   * `0` for free ones), `smtpUrl` sends to a running SMTP server. With either, email codes are
   * offered (MFA_EMAIL_CODES=false turns them off); without, they are not.
   */
  mail?: { maildev: { webPort?: number; smtpPort?: number } } | { smtpUrl: string; webUrl?: string };
}

export interface LocalStack {
  url: string;
  port: number;
  tableName: string;
  dynamoDbEndpoint: string;
  identity: DevIdentityProvider;
  /** The environment the handlers were composed from. */
  env: NodeJS.ProcessEnv;
  /** The change event log's file, when it runs. */
  eventsPath?: string | undefined;
  /** MailDev's web inbox, when the stack started it (or was given one). */
  mailInboxUrl?: string | undefined;
  stop(): Promise<void>;
}

/** The handler module of each route, imported exactly as Lambda would import its bundle. */
export async function loadRouteHandlers(): Promise<Map<string, { ports: PortFactories; withServices: (services: ReturnType<typeof createServices>) => LambdaHttpHandler }>> {
  const modules = new Map();
  for (const route of ROUTES) {
    modules.set(route.id, await import(`../functions/handlers/${route.handler}.ts`));
  }
  return modules;
}

/**
 * Boots the whole product on this machine: DynamoDB Local, the table, local keys, every
 * handler from the route table behind the local API Gateway stand-in, and the dev token route.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir);
  let dynamo: DynamoDbLocal | undefined;
  const endpoint =
    options.dynamoDbEndpoint ?? (dynamo = await startDynamoDbLocal(options.inMemory ? {} : { dbPath: join(dataDir, 'dynamodb') })).endpoint;
  const tableName = options.tableName ?? LOCAL_TABLE_NAME;
  Object.assign(process.env, { ...LOCAL_AWS_ENV, ...pick(process.env, Object.keys(LOCAL_AWS_ENV)) });
  const client = new DynamoDBClient({ endpoint });
  await ensureMfaTable(client, tableName);
  client.destroy();

  const modules = await loadRouteHandlers();
  useBundledChecks();
  const port = options.port ?? (await freePort());
  const url = `http://localhost:${port}`;
  let maildev: LocalMailDev | undefined;
  try {
    if (options.mail && 'maildev' in options.mail) maildev = await startMailDev({ mailDirectory: join(dataDir, 'mail'), ...options.mail.maildev });
  } catch (error) {
    await dynamo?.stop();
    throw error;
  }
  const smtpUrl = maildev?.smtpUrl ?? (options.mail && 'smtpUrl' in options.mail ? options.mail.smtpUrl : undefined);
  const mailInboxUrl = maildev?.webUrl ?? (options.mail && 'webUrl' in options.mail ? options.mail.webUrl : undefined);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MFA_ADAPTERS: 'local',
    MFA_TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: endpoint,
    MFA_DATA_DIR: dataDir,
    MFA_ISSUER: url,
    // What the local API Gateway stand-in's authorizer accepts: the dev identity provider's app.
    MFA_FIRST_FACTOR_AUDIENCES: LOCAL_APP_AUDIENCE,
    MFA_WEBAUTHN_RP_ID: process.env.MFA_WEBAUTHN_RP_ID ?? 'localhost',
    MFA_WEBAUTHN_ORIGINS: process.env.MFA_WEBAUTHN_ORIGINS ?? url,
    // Email codes are on locally whenever there is somewhere to send them.
    MFA_EMAIL_CODES: smtpUrl ? (process.env.MFA_EMAIL_CODES ?? 'true') : 'false',
    ...(smtpUrl ? { MFA_SMTP_URL: smtpUrl } : {}),
    // The operator routes admit the local admin token's principal (POST /dev/admin-token, `npm run admin`), as the stack admits its support role.
    MFA_ADMIN_PRINCIPAL_ARNS: LOCAL_ADMIN_PRINCIPAL,
  };
  const identity = new DevIdentityProvider(dataDir, `${url}/dev`, LOCAL_APP_AUDIENCE);
  const routes = ROUTES.map((route: RouteDefinition) => {
    const module = modules.get(route.id)!;
    return { route, handler: module.withServices(createServices(route, env, options.overrides, { ports: module.ports })) };
  });
  const devRoutes: ExtraRoute[] = [
    {
      method: 'POST',
      path: '/dev/token',
      handle: async (_request, response, body) => {
        let parsed;
        try {
          parsed = DevTokenRequest.safeParse(body.trim() ? JSON.parse(body) : {});
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) return send(response, problemResponse(new InvalidRequestError('Send {"sub": "...", "email"?: "..."}.')));
        send(response, { statusCode: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify({ token: await identity.issueToken(parsed.data) }) });
      },
    },
    {
      method: 'POST',
      path: '/dev/admin-token',
      handle: async (_request, response, body) => {
        let parsed;
        try {
          parsed = DevAdminTokenRequest.safeParse(body.trim() ? JSON.parse(body) : {});
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) return send(response, problemResponse(new InvalidRequestError('Send {}.')));
        send(response, { statusCode: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify({ token: await identity.issueAdminToken() }) });
      },
    },
    {
      method: 'GET',
      path: '/dev/jwks.json',
      handle: async (_request, response) =>
        send(response, { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ keys: await identity.jwks() }) }),
    },
  ];
  const server = createLocalServer({
    routes,
    identity,
    extraRoutes: [
      ...devRoutes,
      ...docsRoutes(),
      ...webRoutes({
        emailCodes: env.MFA_EMAIL_CODES === 'true',
        rememberDeviceDays:
          options.overrides?.settings?.rememberDeviceDays ??
          (env.MFA_REMEMBER_DEVICE_DAYS === undefined ? 30 : ServiceSettingRules.rememberDeviceDays(env.MFA_REMEMBER_DEVICE_DAYS)),
      }),
      ...(options.extraRoutes ?? []),
    ],
    ...(options.routeScopes ? { routeScopes: options.routeScopes } : {}),
    ...(options.lambdaAuthorizedRoutes ? { lambdaAuthorizedRoutes: options.lambdaAuthorizedRoutes } : {}),
  });
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolveListen());
    });
  } catch (error) {
    await maildev?.stop();
    await dynamo?.stop();
    throw error;
  }
  const notifier = smtpUrl && env.MFA_SECURITY_NOTIFICATIONS !== 'false' ? LocalSecurityNotifier.create({ env, smtpUrl, dynamoDbEndpoint: endpoint }) : undefined;
  const eventLog = options.changeEventLog
    ? await ChangeEventLog.start({ dynamoDbEndpoint: endpoint, tableName, dataDir, ...(notifier ? { consumer: (images) => notifier.deliver(images) } : {}) })
    : undefined;

  return {
    url,
    port,
    tableName,
    dynamoDbEndpoint: endpoint,
    identity,
    env,
    eventsPath: eventLog?.path,
    mailInboxUrl,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      await eventLog?.stop();
      notifier?.close();
      await maildev?.stop();
      await dynamo?.stop();
    },
  };
}

/**
 * The request checks the Lambda bundles carry, compiled here from the same schemas (each on first
 * use): the handlers behind the stand-in validate as the functions do, and zod words a refusal.
 */
function useBundledChecks(): void {
  for (const schema of ROUTES.flatMap(inputSchemasOf)) {
    const check = compiledCheck(schema);
    if (check) useCompiledCheck(schema, check);
  }
}

function pick(source: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]!]));
}
