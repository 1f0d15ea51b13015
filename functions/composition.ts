import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDbMfaStore } from './adapters/aws/dynamodb-mfa-store.js';
import { KmsAssertionSigner } from './adapters/aws/kms-assertion-signer.js';
import { KmsSecretSealer } from './adapters/aws/kms-secret-sealer.js';
import { LocalAssertionSigner } from './adapters/local/local-assertion-signer.js';
import { LocalSecretSealer } from './adapters/local/local-secret-sealer.js';
import { PowertoolsAuditLog } from './adapters/powertools-audit-log.js';
import { loadConfig, type Config } from './config.js';
import { systemClock } from './domain/clock.js';
import { cryptoRandom } from './domain/random.js';
import type { RouteDefinition } from './http/routes.js';
import { logger, metrics } from './observability.js';
import type { AssertionSigner } from './ports/assertion-signer.js';
import type { MfaStore } from './ports/mfa-store.js';
import type { SecretSealer } from './ports/secret-sealer.js';
import { MfaService, type MfaServiceDeps } from './service/mfa-service.js';

export interface Services {
  mfa: MfaService;
  signer: AssertionSigner;
  config: Config;
}

const ENROLLMENT_TTL_SECONDS = 600;

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
export function createServices(route: RouteDefinition, env: NodeJS.ProcessEnv = process.env, overrides: Partial<MfaServiceDeps> = {}): Services {
  const config = loadConfig(route.access, env);
  const { access } = route;
  const aws = config.adapters === 'aws';

  const store: MfaStore =
    access.table.length > 0
      ? new DynamoDbMfaStore(
          new DynamoDBClient({
            ...(config.dynamoDbEndpoint ? { endpoint: config.dynamoDbEndpoint } : {}),
            maxAttempts: 3,
          }),
          config.tableName!,
        )
      : notGranted('the MFA table');

  const kms = aws && (access.secretKey.length > 0 || access.signingKey.length > 0) ? new KMSClient({ maxAttempts: 3 }) : undefined;
  const sealer: SecretSealer =
    access.secretKey.length === 0
      ? notGranted('the TOTP secret key')
      : aws
        ? new KmsSecretSealer(kms!, config.totpKeyId!)
        : LocalSecretSealer.inDataDir(config.dataDir);
  const signer: AssertionSigner =
    access.signingKey.length === 0
      ? notGranted('the assertion signing key')
      : aws
        ? new KmsAssertionSigner(kms!, config.signingKeyId!)
        : LocalAssertionSigner.inDataDir(config.dataDir);

  const deps: MfaServiceDeps = {
    store,
    sealer,
    signer,
    audit: new PowertoolsAuditLog(logger, metrics),
    clock: systemClock,
    random: cryptoRandom,
    settings: {
      totpIssuer: config.totpIssuerName,
      assertionIssuer: config.issuer,
      assertionAudience: config.assertionAudience,
      assertionTtlSeconds: config.assertionTtlSeconds,
      enrollmentTtlSeconds: ENROLLMENT_TTL_SECONDS,
    },
    ...overrides,
  };
  return { mfa: new MfaService(deps), signer: deps.signer, config };
}
