import { createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { JWK } from 'jose';
import type { AssertionSigner } from '../../ports/assertion-signer.js';
import { assertionHeader, base64url, derToJoseSignature, keyIdFor, signingInput } from '../jws.js';

/**
 * Signs assertions with an ECC_NIST_P256 KMS key (ES256): the private key never leaves KMS.
 * One Sign call per assertion; the public key is fetched once per container for the JWKS.
 */
export class KmsAssertionSigner implements AssertionSigner {
  private readonly kid: string;
  private jwks?: Promise<JWK[]>;

  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {
    this.kid = keyIdFor(keyId);
  }

  async sign(claims: Record<string, unknown>): Promise<string> {
    const input = signingInput(assertionHeader(this.kid), claims);
    const { Signature } = await this.client.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: Buffer.from(input),
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (!Signature) throw new Error('KMS Sign returned no signature.');
    return `${input}.${base64url(derToJoseSignature(Signature))}`;
  }

  publicJwks(): Promise<JWK[]> {
    this.jwks ??= this.fetchJwks().catch((error: unknown) => {
      this.jwks = undefined;
      throw error;
    });
    return this.jwks;
  }

  private async fetchJwks(): Promise<JWK[]> {
    const { PublicKey } = await this.client.send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    if (!PublicKey) throw new Error('KMS GetPublicKey returned no key.');
    const { kty, crv, x, y } = createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' }).export({ format: 'jwk' });
    if (kty !== 'EC' || crv !== 'P-256') throw new Error('The signing key is not an ECC_NIST_P256 key.');
    return [{ kty, crv, x, y, kid: this.kid, alg: 'ES256', use: 'sig' }];
  }
}
