import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateTotpCode } from '../../functions/methods/totp/totp.js';
import { Authenticator } from './support/authenticator.js';
import { screenshot } from './support/browser.js';
import { TOTP_STEP_MS, useBrowserHarness } from './support/harness.js';
import {
  authenticatorRow,
  expectAlert,
  expectFocusOn,
  expectHeading,
  expectStatus,
  recoveryCodesOnScreen,
  securityKeysRow,
  signInWithKeyboard,
  totpRow,
  typeAndSubmit,
} from './support/page.js';
import { recordCredentialCalls, VirtualAuthenticator } from './support/virtual-authenticator.js';

describe('security keys and several apps in the web client (Chromium, virtual authenticators)', () => {
  const harness = useBrowserHarness('e2e-keys');
  const { clock } = harness;
  let page: Page;
  beforeEach(() => {
    ({ page } = harness);
  });

  /** From the profile with MFA off: "Add security key", a name, "Add", then the recovery codes and sign-out. */
  async function addFirstKey(name: string): Promise<string[]> {
    await securityKeysRow(page).getByRole('button', { name: 'Add security key', exact: true }).click();
    await expectHeading(page, 'Add security key');
    await expectFocusOn(page, 'Key name');
    // Keyboard only: Enter in the field submits, and the key prompt opens inside that key press.
    await page.keyboard.type(name);
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Save your recovery codes');
    const codes = await recoveryCodesOnScreen(page);
    await page.getByRole('checkbox', { name: 'I have saved these codes' }).check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expectHeading(page, 'Sign in');
    await expectStatus(page, /Two-factor authentication is on\. Sign in again using your security key/);
    return codes;
  }

  /** The second step of a user whose only method is a key: the key's button has focus. */
  async function signInWithKey(username: string): Promise<void> {
    await signInWithKeyboard(page, username);
    await expectHeading(page, 'Two-factor authentication');
    await expectFocusOn(page, 'Use a security key');
  }

  it('adds a key as the first method, signs in with it, adds an app with the key as proof, signs in with the app and removes the key with a code', async () => {
    const key = await VirtualAuthenticator.attach(harness.context, page, 'key');
    const credentialCalls = await recordCredentialCalls(page);
    await page.goto(harness.stack.url);
    await signInWithKeyboard(page, 'erin');
    await expectHeading(page, 'Two-factor methods');
    await securityKeysRow(page).getByText('Off', { exact: true }).waitFor();

    // A key as the first method: recovery codes, then signed out.
    const recoveryCodes = await addFirstKey('YubiKey');
    expect(recoveryCodes).toHaveLength(10);
    expect(await key.credentials()).toHaveLength(1);

    // Sign in with the key: the second step offers it first, with recovery codes beside it.
    await signInWithKey('erin');
    await page.getByRole('button', { name: 'Use a recovery code' }).waitFor();
    expect(await page.getByLabel('Authentication code').count()).toBe(0);
    await screenshot(page, '20-second-step-security-key');
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Signed in with your security key/);
    await securityKeysRow(page).getByText('On', { exact: true }).waitFor();
    await securityKeysRow(page).getByText('1 security key').waitFor();
    await totpRow(page).getByRole('button', { name: 'Enable', exact: true }).waitFor();
    const yubiKey = authenticatorRow(page, 'YubiKey');
    await yubiKey.getByText('Security key', { exact: true }).waitFor();
    await yubiKey.getByText(/^Added .+ · last used .+/).waitFor();
    await screenshot(page, '21-profile-security-key');

    // An app while MFA is on: the key is the proof, then the QR code.
    await totpRow(page).getByRole('button', { name: 'Enable', exact: true }).click();
    await expectHeading(page, 'Set up one time password');
    await page.getByText(/Confirm it is you with a recovery code or your security key/).waitFor();
    await expectFocusOn(page, 'Use a security key');
    await screenshot(page, '22-step-up-security-key');
    await page.keyboard.press('Enter');
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    // Every key prompt so far (add, sign in, step-up) had its options before the user's gesture.
    expect(await credentialCalls()).toEqual([
      { method: 'create', fetchesSinceGesture: 0 },
      { method: 'get', fetchesSinceGesture: 0 },
      { method: 'get', fetchesSinceGesture: 0 },
    ]);
    const phone = Authenticator.scan(await page.getByRole('img', { name: /QR code/ }).screenshot());
    await page.getByLabel('App name').fill('Phone');
    clock.advance(TOTP_STEP_MS);
    await page.getByLabel('Authentication code').fill(phone.codeAt(clock.now()));
    await page.keyboard.press('Enter');
    // Not the first method: no new recovery codes, but signed out to sign in again.
    await expectHeading(page, 'Sign in');
    await expectStatus(page, /The new authenticator app is added\. Sign in again/);

    // Sign in with the app: code first, the key and recovery codes beside it.
    await signInWithKeyboard(page, 'erin');
    await expectHeading(page, 'Two-factor authentication');
    await expectFocusOn(page, 'Authentication code');
    await page.getByRole('button', { name: 'Use a security key' }).waitFor();
    await page.getByRole('button', { name: 'Use a recovery code' }).waitFor();
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, phone.codeAt(clock.now()));
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Signed in with two-factor authentication/);
    await totpRow(page).getByRole('button', { name: 'Add another app', exact: true }).waitFor();
    await authenticatorRow(page, 'Phone').getByText('Authenticator app', { exact: true }).waitFor();
    await page.getByText('Recovery codes remaining: 10').waitFor();
    await screenshot(page, '23-profile-app-and-key');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '23-profile-app-and-key-narrow');
    await page.setViewportSize({ width: 1000, height: 800 });

    // Rename the key.
    await authenticatorRow(page, 'YubiKey').getByRole('button', { name: 'Rename', exact: true }).click();
    await expectHeading(page, 'Rename security key');
    await expectFocusOn(page, 'Name');
    await page.getByLabel('Name', { exact: true }).fill('YubiKey 5C');
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Renamed to "YubiKey 5C"/);

    // Remove the key with a code from the app.
    await authenticatorRow(page, 'YubiKey 5C').getByRole('button', { name: 'Remove', exact: true }).click();
    await expectHeading(page, 'Remove security key');
    await expectFocusOn(page, 'Authentication code');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, phone.codeAt(clock.now()));
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /"YubiKey 5C" is removed\./);
    await securityKeysRow(page).getByText('Off', { exact: true }).waitFor();
    expect(await authenticatorRow(page, 'YubiKey 5C').count()).toBe(0);
    await authenticatorRow(page, 'Phone').waitFor();
    await page.getByText('Recovery codes remaining: 10').waitFor();

    // The removed key no longer signs in: only the app and recovery codes are offered.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithKeyboard(page, 'erin');
    await expectHeading(page, 'Two-factor authentication');
    expect(await page.getByRole('button', { name: 'Use a security key' }).count()).toBe(0);
  });

  it('refuses a key whose signature counter went backwards, as a cloned key would', async () => {
    const key = await VirtualAuthenticator.attach(harness.context, page, 'key');
    await page.goto(harness.stack.url);
    await signInWithKeyboard(page, 'frank');
    await expectHeading(page, 'Two-factor methods');
    await addFirstKey('YubiKey');
    await signInWithKey('frank');
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Two-factor methods');

    const [credential] = await key.credentials();
    expect(credential!.signCount).toBeGreaterThanOrEqual(1);
    await key.setSignCount(credential!.credentialId, 0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithKey('frank');
    await page.keyboard.press('Enter');
    await expectAlert(page, /That security key was not accepted/);
    await expectFocusOn(page, 'Use a security key');
    await expectHeading(page, 'Two-factor authentication');
    await screenshot(page, '24-second-step-key-refused');

    // The same key with its counter ahead again is accepted: the counter was the reason.
    await key.setSignCount(credential!.credentialId, credential!.signCount + 10);
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Signed in with your security key/);
  });

  it('refuses a passkey whose signature is bogus, and accepts it once it signs properly', async () => {
    const passkey = await VirtualAuthenticator.attach(harness.context, page, 'passkey');
    await page.goto(harness.stack.url);
    await signInWithKeyboard(page, 'grace');
    await expectHeading(page, 'Two-factor methods');
    await addFirstKey('Laptop');

    await passkey.sendBogusSignatures(true);
    await signInWithKey('grace');
    await page.keyboard.press('Enter');
    await expectAlert(page, /That security key was not accepted/);

    await passkey.sendBogusSignatures(false);
    await page.getByRole('button', { name: 'Use a security key' }).click();
    await expectHeading(page, 'Two-factor methods');
    // A synced passkey (backup eligible and backed up) says so in the list.
    await authenticatorRow(page, 'Laptop').getByText('Passkey (synced)', { exact: true }).waitFor();
  });

  it('asks for a proof before adding another app or key while MFA is on', async () => {
    const { secret } = await harness.enrolThroughApi('heidi');
    const phone = { codeAt: (now: number) => generateTotpCode(secret, now) };
    await VirtualAuthenticator.attach(harness.context, page, 'key');
    await page.goto(harness.stack.url);
    await signInWithKeyboard(page, 'heidi');
    await expectHeading(page, 'Two-factor authentication');
    await expectFocusOn(page, 'Authentication code');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, phone.codeAt(clock.now()));
    await expectHeading(page, 'Two-factor methods');

    await securityKeysRow(page).getByRole('button', { name: 'Add security key', exact: true }).click();
    await expectHeading(page, 'Add security key');
    await expectFocusOn(page, 'Authentication code');
    await typeAndSubmit(page, phone.codeAt(clock.now()));
    await expectAlert(page, /That code is wrong or has already been used/);
    clock.advance(TOTP_STEP_MS);
    await page.getByLabel('Authentication code').fill(phone.codeAt(clock.now()));
    await page.keyboard.press('Enter');
    await expectFocusOn(page, 'Key name');
    await screenshot(page, '25-add-security-key');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expectHeading(page, 'Sign in');
    await expectStatus(page, /The new security key is added\. Sign in again/);
  });
});
