import { MfaProblemError, type DevicePublicKeyJwk, type MfaVerified, type SecondFactor, type VerifyMfaRequest } from '../../client/index.js';
import type { App } from './app.js';
import { h, uniqueId } from './dom.js';

/**
 * "Remember this browser": an ECDSA P-256 key made by WebCrypto with `extractable: false`, kept
 * in IndexedDB under the user and the app. The browser can sign with it but no script (this
 * page's included) can read its private half, so a copy of the database, of a backup or of a log
 * holds nothing that signs. The service keeps the public half only.
 */

const DATABASE = 'serverless-mfa';
const STORE = 'remembered-browsers';

/** What this browser keeps for one user of one app: the id the service gave it and its key. */
interface StoredBrowser {
  deviceId: string;
  privateKey: CryptoKey;
}

/** A key being remembered with a sign-in: the public JWK to send, and the private key to keep once the service agrees. */
export interface PendingBrowserKey {
  publicKey: DevicePublicKeyJwk;
  privateKey: CryptoKey;
}

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened.'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const database = await openDatabase();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = use(database.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed.'));
    });
  } finally {
    database.close();
  }
}

/** The user and the app (the first-factor token's `sub` and first `aud`): a browser is remembered per both. */
export function storageKeyOf(token: string): string | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown; aud?: unknown; client_id?: unknown };
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : (payload.aud ?? payload.client_id);
    return typeof payload.sub === 'string' && typeof aud === 'string' ? JSON.stringify([payload.sub, aud]) : undefined;
  } catch {
    return undefined;
  }
}

const loadBrowser = (key: string) => withStore<StoredBrowser | undefined>('readonly', (store) => store.get(key) as IDBRequest<StoredBrowser | undefined>);
const saveBrowser = (key: string, browser: StoredBrowser) => withStore('readwrite', (store) => store.put(browser, key));
const deleteBrowser = (key: string) => withStore('readwrite', (store) => store.delete(key));

/** A fresh key for this browser: it signs, and its private half can never be exported. */
export async function newBrowserKey(): Promise<PendingBrowserKey> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { publicKey: { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! }, privateKey: pair.privateKey };
}

/** Keeps the key the service remembered with this sign-in (`verified.device`). */
export async function keepBrowserKey(app: App, pending: PendingBrowserKey, verified: MfaVerified): Promise<void> {
  const key = app.session.token ? storageKeyOf(app.session.token) : undefined;
  if (!key || !verified.device) return;
  await saveBrowser(key, { deviceId: verified.device.id, privateKey: pending.privateKey });
}

/** The id of the browser remembered here for the signed-in user and app, if any. */
export async function rememberedBrowserId(app: App): Promise<string | undefined> {
  const key = app.session.token ? storageKeyOf(app.session.token) : undefined;
  return key ? (await loadBrowser(key).catch(() => undefined))?.deviceId : undefined;
}

/** Drops this browser's key for the signed-in user and app (after "Forget", or when the service refused it). */
export async function dropBrowserKey(app: App): Promise<void> {
  const key = app.session.token ? storageKeyOf(app.session.token) : undefined;
  if (key) await deleteBrowser(key).catch(() => undefined);
}

/**
 * The second step without asking, when this browser is remembered for the user and app: a
 * challenge, signed here, verified. A refusal (forgotten, expired, another key) deletes the key,
 * and the usual second step follows; a failure to reach the service leaves it for next time.
 */
export async function signInWithRememberedBrowser(app: App): Promise<MfaVerified | undefined> {
  const key = app.session.token ? storageKeyOf(app.session.token) : undefined;
  const stored = key ? await loadBrowser(key).catch(() => undefined) : undefined;
  if (!key || !stored) return undefined;
  try {
    const { challenge } = await app.client.startDeviceChallenge(stored.deviceId);
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, stored.privateKey, new TextEncoder().encode(challenge));
    const proof: VerifyMfaRequest = { device: { id: stored.deviceId, challenge, signature: base64url(new Uint8Array(signature)) } };
    return await app.client.verifyMfa(proof);
  } catch (error) {
    if (error instanceof MfaProblemError && ['device_not_found', 'invalid_credential', 'mfa_not_enabled'].includes(error.code)) await deleteBrowser(key).catch(() => undefined);
    return undefined;
  }
}

/**
 * The second step's "Remember this browser for N days" checkbox (none when the service has
 * remembering off), and the sign-in that honours it: ticked, a key is made and its public half
 * sent with the proof; the private half is kept once the service has remembered it.
 */
export function rememberBrowserOption(app: App): { element: HTMLElement | null; verify: (proof: SecondFactor) => Promise<MfaVerified> } {
  const days = app.config.rememberDeviceDays;
  if (days === 0 || typeof indexedDB === 'undefined' || !crypto.subtle) return { element: null, verify: (proof) => app.client.verifyMfa(proof) };
  const id = uniqueId('remember');
  const checkbox = h('input', { type: 'checkbox', id, className: 'checkbox' });
  const element = h('div', { className: 'remember-browser' }, checkbox, h('label', { htmlFor: id }, `Remember this browser for ${days} day${days === 1 ? '' : 's'}`));
  return {
    element,
    verify: async (proof) => {
      if (!checkbox.checked) return app.client.verifyMfa(proof);
      const pending = await newBrowserKey();
      const verified = await app.client.verifyMfa({ ...proof, rememberDevice: { publicKey: pending.publicKey, name: browserName() } });
      await keepBrowserKey(app, pending, verified);
      return verified;
    },
  };
}

/** "Chrome on Linux": the browser and system, as the default name of a remembered browser. */
export function browserName(userAgent: string = navigator.userAgent): string {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser';
  const system = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /CrOS/.test(userAgent)
            ? 'ChromeOS'
            : /Linux/.test(userAgent)
              ? 'Linux'
              : undefined;
  return system ? `${browser} on ${system}` : browser;
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
