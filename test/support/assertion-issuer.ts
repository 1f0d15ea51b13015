import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface IssuerKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newIssuerKey(kid = randomUUID()): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/**
 * A stand-in MFA service for verifier tests: a real HTTP server on loopback serving the
 * discovery document and the JWKS, with real ES256 keys that a test can rotate, and counters
 * of what was fetched.
 */
export async function startAssertionIssuer() {
  let published: IssuerKey[] = [await newIssuerKey()];
  const fetches = { discovery: 0, jwks: 0 };
  let discoveryIssuer: string | undefined;
  const server: Server = createServer((request, response) => {
    if (request.url === '/.well-known/openid-configuration') {
      fetches.discovery++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ issuer: discoveryIssuer ?? issuer, jwks_uri: `${issuer}/.well-known/jwks.json` }));
    } else if (request.url === '/.well-known/jwks.json') {
      fetches.jwks++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: published.map((key) => key.publicJwk) }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  /** A genuine assertion (as the service signs them) for `sub`, with any claims or header replaced. */
  async function sign(claims: JWTPayload & Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: IssuerKey = published[0]!): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const body = { iss: issuer, sub: 'alice', aud: 'app-one', iat: now, nbf: now, exp: now + 300, jti: randomUUID(), amr: ['mfa', 'otp'], ...claims };
    for (const [name, value] of Object.entries(body)) if (value === undefined) delete body[name as keyof typeof body];
    const protectedHeader = { alg: 'ES256', typ: 'mfa+jwt', kid: key.kid, ...header };
    for (const [name, value] of Object.entries(protectedHeader)) if (value === undefined) delete protectedHeader[name as keyof typeof protectedHeader];
    return new SignJWT(body).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
  }

  return {
    issuer,
    fetches,
    sign,
    get keys() {
      return published;
    },
    /** Replaces the published key set (rotation). */
    publish(keys: IssuerKey[]) {
      published = keys;
    },
    /** Makes the discovery document name another issuer. */
    claimIssuer(value: string | undefined) {
      discoveryIssuer = value;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type AssertionIssuer = Awaited<ReturnType<typeof startAssertionIssuer>>;
