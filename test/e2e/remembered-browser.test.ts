import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateTotpCode } from '../../functions/methods/totp/totp.js';
import type { LocalStack } from '../../local/local-stack.js';
import { TOTP_STEP_MS, useBrowserHarness } from './support/harness.js';
import { expectHeading, expectStatus, signInWithKeyboard, typeAndSubmit } from './support/page.js';

/** What this origin's IndexedDB holds for remembered browsers, and what exportKey says of each key. */
function storedBrowsers(page: Page): Promise<Array<{ deviceId: string; extractable: boolean; usages: string[]; exportJwk: string; exportPkcs8: string }>> {
  return page.evaluate(async () => {
    const database = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('serverless-mfa', 1);
      request.onupgradeneeded = () => request.result.createObjectStore('remembered-browsers');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const records = await new Promise<Array<{ deviceId: string; privateKey: CryptoKey }>>((resolve, reject) => {
      const request = database.transaction('remembered-browsers').objectStore('remembered-browsers').getAll();
      request.onsuccess = () => resolve(request.result as Array<{ deviceId: string; privateKey: CryptoKey }>);
      request.onerror = () => reject(request.error);
    });
    database.close();
    const outcome = (promise: Promise<unknown>) => promise.then(() => 'exported', (error: Error) => `rejected: ${error.name}`);
    return Promise.all(
      records.map(async ({ deviceId, privateKey }) => ({
        deviceId,
        extractable: privateKey.extractable,
        usages: [...privateKey.usages],
        exportJwk: await outcome(crypto.subtle.exportKey('jwk', privateKey)),
        exportPkcs8: await outcome(crypto.subtle.exportKey('pkcs8', privateKey)),
      })),
    );
  });
}

describe('remembered browser (Chromium against the local stack)', () => {
  const harness = useBrowserHarness('e2e-remembered');
  const { clock } = harness;
  let stack: LocalStack;
  let page: Page;
  beforeEach(() => {
    ({ stack, page } = harness);
  });

  async function signInWithCode(username: string, secret: Uint8Array, remember: boolean) {
    await page.goto(stack.url);
    await signInWithKeyboard(page, username);
    await expectHeading(page, 'Two-factor authentication');
    const checkbox = page.getByLabel('Remember this browser for 30 days', { exact: true });
    await checkbox.waitFor();
    if (remember) await checkbox.check();
    await page.getByLabel('Authentication code', { exact: true }).focus();
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, generateTotpCode(secret, clock.now()));
    await expectHeading(page, 'Two-factor methods');
  }

  it('remembers this browser with a key no script can export, signs in silently at the next visit, and asks again once forgotten', async () => {
    const { secret, api } = await harness.enrolThroughApi('erin');
    await signInWithCode('erin', secret, true);

    const rememberedList = page.getByRole('list', { name: 'Remembered browsers' });
    await rememberedList.getByRole('heading', { level: 3, name: 'Chrome on Linux', exact: true }).waitFor();
    const [stored, ...others] = await storedBrowsers(page);
    expect(others).toEqual([]);
    const { devices } = await api.getMfaStatus();
    expect(stored).toEqual({ deviceId: devices[0]!.id, extractable: false, usages: ['sign'], exportJwk: 'rejected: InvalidAccessError', exportPkcs8: 'rejected: InvalidAccessError' });

    // The next visit (a new first-factor session): no second step is asked.
    await page.goto(stack.url);
    await signInWithKeyboard(page, 'erin');
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Signed in with this remembered browser\./);
    expect((await api.getMfaStatus()).devices[0]!.lastUsedAt).not.toBeNull();

    await rememberedList.getByRole('button', { name: 'Forget', exact: true }).click();
    await expectStatus(page, /Forgotten/);
    expect(await storedBrowsers(page)).toEqual([]);
    expect((await api.getMfaStatus()).devices).toEqual([]);

    await page.goto(stack.url);
    await signInWithKeyboard(page, 'erin');
    await expectHeading(page, 'Two-factor authentication');
  });

  it('deletes its key when the service refuses it (forgotten elsewhere), then shows the usual second step', async () => {
    const { secret, api } = await harness.enrolThroughApi('frank');
    await signInWithCode('frank', secret, true);
    expect(await storedBrowsers(page)).toHaveLength(1);
    await api.forgetAllDevices();

    await page.goto(stack.url);
    await signInWithKeyboard(page, 'frank');
    await expectHeading(page, 'Two-factor authentication');
    await page.getByLabel('Authentication code', { exact: true }).waitFor();
    expect(await storedBrowsers(page)).toEqual([]);
  });

  it('remembers nothing when the box is left unticked', async () => {
    const { secret, api } = await harness.enrolThroughApi('gina');
    await signInWithCode('gina', secret, false);
    expect(await storedBrowsers(page)).toEqual([]);
    expect((await api.getMfaStatus()).devices).toEqual([]);
  });
});
