import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { assertionSigningKey, KMS_CLIENT_CONFIG } from './adapters/assertion-signing-key.js';
import { DynamoDbMfaStore } from './adapters/aws/dynamodb-mfa-store.js';
import { KmsSecretSealer } from './adapters/aws/kms-secret-sealer.js';
import { LocalSecretSealer } from './adapters/local/local-secret-sealer.js';
import { PowertoolsAuditLog } from './adapters/powertools-audit-log.js';
import { loadConfig, type Config } from './config.js';
import { systemClock } from './domain/clock.js';
import { cryptoRandom } from './domain/random.js';
import type { RouteDefinition } from './http/routes.js';
import { countMetric, logger } from './observability.js';
import type { AssertionSigner } from './ports/assertion-signer.js';
import type { Mailer } from './ports/mailer.js';
import type { MfaStore } from './ports/mfa-store.js';
import type { SecretSealer } from './ports/secret-sealer.js';
import { MfaService, type MfaServiceDeps } from './service/mfa-service.js';

export interface Services {
  mfa: MfaService;
  signer: AssertionSigner;
  config: Config;
}

/** The SDK clients of one container, created on first use and shared by its adapters. Tests may pass their own. */
export interface AwsClients {
  dynamoDb?: DynamoDBClient;
  kms?: KMSClient;
  ses?: SESv2Client;
}

/**
 * How a function reaches each resource its route's access names, one factory per RouteAccess
 * key. A handler passes only the factories its route needs, so its bundle holds only those
 * adapters and SDK clients: a function without KMS access never loads the KMS client.
 */
export interface PortFactories {
  table?: (config: Config, clients: AwsClients) => MfaStore;
  secretKey?: (config: Config, clients: AwsClients) => SecretSealer;
  signingKey?: (config: Config, clients: AwsClients) => AssertionSigner;
  mail?: (config: Config, clients: AwsClients) => Mailer;
}

const ENROLLMENT_TTL_SECONDS = 600;

/** SDK v3 keeps connections alive by default (NodeHttpHandler agent with keepAlive: true). */
export function dynamoDbClientConfig(config: Pick<Config, 'dynamoDbEndpoint'>): DynamoDBClientConfig {
  return { ...(config.dynamoDbEndpoint ? { endpoint: config.dynamoDbEndpoint } : {}), maxAttempts: 3 };
}

export { assertionSigningKey, KMS_CLIENT_CONFIG };

/** The MFA table: DynamoDB in the cloud and locally (DynamoDB Local). */
export const mfaTable: NonNullable<PortFactories['table']> = (config, clients) =>
  new DynamoDbMfaStore((clients.dynamoDb ??= new DynamoDBClient(dynamoDbClientConfig(config))), config.tableName!);

/** The TOTP-secret key: KMS, or AES-GCM under a key file locally. */
export const totpSecretKey: NonNullable<PortFactories['secretKey']> = (config, clients) =>
  config.adapters === 'aws'
    ? new KmsSecretSealer((clients.kms ??= new KMSClient(KMS_CLIENT_CONFIG)), config.totpKeyId!)
    : LocalSecretSealer.inDataDir(config.dataDir);

/** A port this function has no access to: using it is a programming error, caught loudly. */
function notGranted<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: () => {
      throw new Error(`This function has no access to ${port}.`);
    },
  });
}

/**
 * The composition root: picks the AWS or local adapter for each port from validated config,
 * building only the ports the route's access grants. Called once per container at cold start.
 */
export function createServices(
  route: RouteDefinition,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<MfaServiceDeps> = {},
  wiring: { ports?: PortFactories; clients?: AwsClients } = {},
): Services {
  const config = loadConfig(route.access, env, route.auth);
  const ports = wiring.ports ?? {};
  const clients = wiring.clients ?? {};
  const wire = <T extends object>(key: keyof PortFactories, name: string, override: T | undefined): T => {
    if (override) return override;
    if (route.access[key].length === 0) return notGranted<T>(name);
    const factory = ports[key] as ((config: Config, clients: AwsClients) => T) | undefined;
    if (!factory) throw new Error(`The ${route.handler} handler does not wire ${name}, which its route's access grants.`);
    return factory(config, clients);
  };
  const deps: MfaServiceDeps = {
    store: wire('table', 'the MFA table', overrides.store),
    sealer: wire('secretKey', 'the TOTP secret key', overrides.sealer),
    signer: wire('signingKey', 'the assertion signing key', overrides.signer),
    // Only a function that sends codes has a mailer, and only when the deployment offers them.
    mailer: overrides.mailer ?? (config.emailCodes ? wire<Mailer>('mail', 'the mailer', undefined) : undefined),
    audit: new PowertoolsAuditLog(logger, countMetric),
    clock: systemClock,
    random: cryptoRandom,
    settings: {
      totpIssuer: config.totpIssuerName,
      assertionIssuer: config.issuer,
      audienceMap: config.audienceMap,
      assertionTtlSeconds: config.assertionTtlSeconds,
      enrollmentTtlSeconds: ENROLLMENT_TTL_SECONDS,
      rememberDeviceDays: config.rememberDeviceDays,
      relyingParty: { id: config.webauthnRpId, name: config.totpIssuerName, origins: config.webauthnOrigins },
      emailCodes: config.emailCodes,
      adminPrincipalArns: config.adminPrincipalArns,
    },
    ...overrides,
  };
  return { mfa: new MfaService(deps), signer: deps.signer, config };
}
