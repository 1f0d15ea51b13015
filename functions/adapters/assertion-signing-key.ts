import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import type { AwsClients } from '../composition.js';
import type { Config } from '../config.js';
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
export const assertionSigningKey = (config: Pick<Config, 'adapters' | 'signingKeyId' | 'dataDir'>, clients: AwsClients): AssertionSigner =>
  config.adapters === 'aws'
    ? new KmsAssertionSigner((clients.kms ??= new KMSClient(KMS_CLIENT_CONFIG)), config.signingKeyId!)
    : LocalAssertionSigner.inDataDir(config.dataDir);
