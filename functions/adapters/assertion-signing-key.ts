import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import type { PublicConfig } from '../public-config.js';
import type { AssertionSigner } from '../ports/assertion-signer.js';
import { KmsAssertionSigner } from './aws/kms-assertion-signer.js';
import { LocalAssertionSigner } from './local/local-assertion-signer.js';

/*
 * The assertion-signing key's port factory, apart from the composition root so that the public
 * key-set function (functions/http/public-handler.ts) can wire it without loading the service,
 * the route table's schemas or the other adapters.
 */

export const KMS_CLIENT_CONFIG: KMSClientConfig = { maxAttempts: 3 };

/** The assertion-signing key: an ECC KMS key, or a P-256 JWK file locally. */
/** `clients` is the container's AwsClients (composition.ts): the KMS client is created once and shared. */
export const assertionSigningKey = (config: Pick<PublicConfig, 'adapters' | 'signingKeyId' | 'dataDir'>, clients: { kms?: KMSClient }): AssertionSigner =>
  config.adapters === 'aws'
    ? new KmsAssertionSigner((clients.kms ??= new KMSClient(KMS_CLIENT_CONFIG)), config.signingKeyId!)
    : LocalAssertionSigner.inDataDir(config.dataDir);
