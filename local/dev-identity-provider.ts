import { createPrivateKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { readOrCreateKeyFile } from '../functions/adapters/local/key-files.js';

export const DEV_TOKEN_TTL_SECONDS = 3600;

/** Where the provider's RSA key lives under the data directory (created on first start, kept across restarts). */
export const DEV_IDENTITY_KEY_FILE = join('keys', 'dev-identity-provider-rs256.jwk.json');

/** The audience of local operator tokens (POST /dev/admin-token): never a user's token's. */
export const LOCAL_ADMIN_AUDIENCE = 'serverless-mfa-local-admin';
/** The IAM principal an operator token stands for on the local server. */
export const LOCAL_ADMIN_PRINCIPAL = 'arn:aws:iam::000000000000:user/local-admin';

export const DevAdminTokenRequest = z.strictObject({});

export const DevTokenRequest = z.strictObject({
  sub: z.string().min(1).max(128).regex(/^[A-Za-z0-9._@+-]+$/),
  email: z.email().max(254).optional(),
  /** `email_verified` of the token (with an `email`): true unless a test asks for an unverified address. */
  emailVerified: z.boolean().optional(),
});

interface LoadedKey {
  privateKey: KeyObject;
  publicJwk: JWK & { kid: string };
}

/**
 * The local first factor: issues RS256 JWTs with a `kid` for any username (POST /dev/token), as
 * Cognito and other real identity providers do, and verifies them exactly as API Gateway's HTTP
 * API JWT authorizer does (see `verify`), so that what passes here passes in the cloud. Never deployed.
 */
export class DevIdentityProvider {
  private key?: Promise<LoadedKey>;
  /** Built once: the key set caches the imported public key, which costs more than the signature check. */
  private keySet?: Promise<JWTVerifyGetKey>;
  /**
   * Tokens already verified, with their claims. A token's signature, issuer and audience cannot
   * change, so a token seen before only has its times checked again. This keeps the stand-in's
   * own cost (API Gateway's, in the cloud) out of what the benchmarks attribute to the functions.
   */
  private readonly verified = new Map<string, JWTPayload>();

  constructor(
    private readonly dataDir: string,
    readonly issuer: string,
    readonly audience: string,
  ) {}

  async issueToken(input: z.infer<typeof DevTokenRequest>, nowMs = Date.now()): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return this.sign({
      iss: this.issuer,
      aud: this.audience,
      sub: input.sub,
      // As an identity provider that verified the address (Cognito, Auth0, Keycloak): `email_verified` says so.
      ...(input.email ? { email: input.email, email_verified: input.emailVerified ?? true } : {}),
      // Every sign-in is a session of its own, as at a real identity provider.
      sid: randomUUID(),
      jti: randomUUID(),
      iat,
      nbf: iat,
      exp: iat + DEV_TOKEN_TTL_SECONDS,
    });
  }

  /**
   * A token the local server accepts on `/admin` routes in place of a SigV4 signature (and on
   * no other route: its audience is not the app's, so `verify` refuses it).
   */
  issueAdminToken(nowMs = Date.now()): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return this.sign({ iss: this.issuer, aud: LOCAL_ADMIN_AUDIENCE, sub: LOCAL_ADMIN_PRINCIPAL, iat, nbf: iat, exp: iat + DEV_TOKEN_TTL_SECONDS });
  }

  /** The operator principal of a local admin token, or null for any other token (a user's included). */
  async verifyAdmin(token: string): Promise<string | null> {
    const payload = await this.verifyOnce(token, LOCAL_ADMIN_AUDIENCE);
    return typeof payload?.sub === 'string' && payload.sub.startsWith('arn:') ? payload.sub : null;
  }

  /** Any claims under this provider's key and `kid` (tests use it for access-token shapes: `client_id`, `scope`). */
  async sign(claims: JWTPayload): Promise<string> {
    const { privateKey, publicJwk } = await this.loadKey();
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: publicJwk.kid }).sign(privateKey);
  }

  async jwks(): Promise<JWK[]> {
    return [(await this.loadKey()).publicJwk];
  }

  /**
   * The verified claims, or null for any token the HTTP API JWT authorizer refuses: not RS256
   * (it supports only RSA), no `kid` or one the issuer does not publish, a bad signature, another
   * `iss`, no `exp` or past it, before its `nbf`, no `sub` (the handlers need one), and the
   * audience rule: `aud` must be the configured audience, and only when there is no `aud` is
   * `client_id` checked instead. When the route requires scopes, the token's `scope` (or `scp`)
   * must hold at least one of them.
   */
  async verify(token: string, requiredScopes: readonly string[] = []): Promise<JWTPayload | null> {
    let payload = this.verified.get(token);
    if (payload) {
      if (!isCurrent(payload)) return null;
    } else {
      payload = (await this.verifyOnce(token)) ?? undefined;
      if (!payload) return null;
      if (this.verified.size >= REMEMBERED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, payload);
    }
    if (requiredScopes.length > 0 && !scopesOf(payload).some((scope) => requiredScopes.includes(scope))) return null;
    return payload;
  }

  private async verifyOnce(token: string, audience: string = this.audience): Promise<JWTPayload | null> {
    try {
      const { kid } = decodeProtectedHeader(token);
      if (typeof kid !== 'string' || kid.length === 0) return null;
      this.keySet ??= this.jwks().then((keys) => createLocalJWKSet({ keys }));
      const { payload } = await jwtVerify(token, await this.keySet, {
        issuer: this.issuer,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'sub'],
      });
      const audienceMatches = payload.aud !== undefined ? [payload.aud].flat().includes(audience) : payload.client_id === audience;
      return audienceMatches ? payload : null;
    } catch {
      return null;
    }
  }

  private loadKey(): Promise<LoadedKey> {
    this.key ??= (async () => {
      const path = join(this.dataDir, DEV_IDENTITY_KEY_FILE);
      const text = await readOrCreateKeyFile(path, () => JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })));
      const privateJwk = JSON.parse(text) as JsonWebKey;
      const { kty, n, e } = privateJwk;
      if (kty !== 'RSA' || !n || !e || !privateJwk.d) throw new Error(`The key file ${path} does not hold an RSA private JWK.`);
      // The kid is the RFC 7638 thumbprint: stable for as long as the key file is.
      const kid = await calculateJwkThumbprint({ kty, n, e });
      return { privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }), publicJwk: { kty, n, e, kid, alg: 'RS256', use: 'sig' } };
    })();
    return this.key;
  }
}

/** The scopes of an access token: Cognito and OAuth put them in `scope` (space-separated), some providers in `scp`. */
export function scopesOf(payload: JWTPayload): string[] {
  const value = payload.scope ?? payload.scp;
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  return Array.isArray(value) ? value.filter((scope): scope is string => typeof scope === 'string') : [];
}

const REMEMBERED_TOKENS = 10_000;

/** The time checks jwtVerify makes: not expired, and not before its `nbf`. */
function isCurrent(payload: JWTPayload, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  return payload.exp !== undefined && payload.exp > nowSeconds && (payload.nbf === undefined || payload.nbf <= nowSeconds);
}
