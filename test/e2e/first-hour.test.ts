import type { Dialog, Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateTotpCode } from '../../functions/methods/totp/totp.js';
import type { LocalStack } from '../../local/local-stack.js';
import { Authenticator } from './support/authenticator.js';
import { screenshot } from './support/browser.js';
import { TOTP_STEP_MS, useBrowserHarness } from './support/harness.js';
import { authenticatorRow, expectAlert, expectFocusOn, expectHeading, recoveryCodesOnScreen, signInWithKeyboard, submitCode, totpRow, typeAndSubmit } from './support/page.js';

/**
 * A newcomer's first hour (issue 17): recovery codes that cannot be lost by accident, a
 * lost-phone path that guides, names that fit every screen, and the small things of set-up.
 */
describe('web client: the first hour (Chromium against the local stack)', () => {
  const harness = useBrowserHarness('first-hour');
  const { clock } = harness;
  let stack: LocalStack;
  let page: Page;
  beforeEach(() => {
    ({ stack, page } = harness);
  });

  /** Signs in with the app's code at the second step; lands on the profile. */
  async function signInWithCode(username: string, secret: Uint8Array): Promise<void> {
    await signInWithKeyboard(page, username);
    await expectHeading(page, 'Two-factor authentication');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, generateTotpCode(secret, clock.now()));
    await expectHeading(page, 'Two-factor methods');
  }

  const header = () => page.locator('#account');

  /** The page is no wider than the window: nothing scrolls sideways. */
  async function expectNoHorizontalOverflow(label: string): Promise<void> {
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    expect(scrollWidth, label).toBeLessThanOrEqual(innerWidth);
  }

  it('keeps recovery codes on screen until the user says they are saved, and after a forced reload offers new ones', async () => {
    const { secret } = await harness.enrolThroughApi('ivan');
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(stack.url);
    await signInWithKeyboard(page, 'ivan');
    await expectHeading(page, 'Two-factor authentication');
    // Before the second step the user is not signed in yet: the header says so, and still offers a way out.
    expect(await header().textContent()).toContain('Signing in as ivan');
    expect(await header().textContent()).not.toContain('Signed in as');
    await header().getByRole('button', { name: 'Sign out' }).waitFor();
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, generateTotpCode(secret, clock.now()));
    await expectHeading(page, 'Two-factor methods');
    await expect.poll(() => header().textContent()).toContain('Signed in as ivan');

    await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
    await expectHeading(page, 'Regenerate recovery codes');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, generateTotpCode(secret, clock.now()));
    await expectHeading(page, 'Save your recovery codes');
    const codes = await recoveryCodesOnScreen(page);
    await screenshot(page, 'first-hour-recovery-codes-375');

    // "Sign out" asks first; saying no keeps the codes on screen.
    const dialogs: { type: string; message: string }[] = [];
    const answer = (accept: boolean) => (dialog: Dialog) => {
      dialogs.push({ type: dialog.type(), message: dialog.message() });
      void (accept ? dialog.accept() : dialog.dismiss());
    };
    page.once('dialog', answer(false));
    await header().getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toEqual({ type: 'confirm', message: expect.stringMatching(/recovery codes are shown only now/) });
    await expectHeading(page, 'Save your recovery codes');
    expect(await recoveryCodesOnScreen(page)).toEqual(codes);
    expect(await page.getByRole('button', { name: 'Continue', exact: true }).isDisabled()).toBe(true);
    // Nothing secret is kept in the browser for later: only the mark that codes were shown.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    for (const code of codes) expect(stored).not.toContain(code);

    // A reload asks through beforeunload; the user insists.
    page.once('dialog', answer(true));
    await page.reload();
    expect(dialogs[1]?.type).toBe('beforeunload');
    await expectHeading(page, 'Sign in');

    // Signed in again: the profile says plainly that those codes were never confirmed, and offers new ones with a proof.
    await signInWithCode('ivan', secret);
    const notice = page.getByRole('region', { name: 'Your recovery codes were not confirmed as saved' });
    await notice.waitFor();
    await screenshot(page, 'first-hour-profile-codes-not-confirmed-375');
    await notice.getByRole('button', { name: 'Regenerate recovery codes' }).click();
    await expectHeading(page, 'Regenerate recovery codes');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, generateTotpCode(secret, clock.now()));
    await expectHeading(page, 'Save your recovery codes');
    expect((await recoveryCodesOnScreen(page)).filter((code) => codes.includes(code))).toEqual([]);
    await page.getByRole('checkbox', { name: 'I have saved these codes' }).check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expectHeading(page, 'Two-factor methods');
    await page.getByText('Recovery codes remaining: 10').waitFor();
    expect(await notice.count()).toBe(0);

    // Once confirmed, leaving asks nothing any more.
    await header().getByRole('button', { name: 'Sign out' }).click();
    await expectHeading(page, 'Sign in');
    expect(dialogs).toHaveLength(2);
  });

  it('after a lockout points to the recovery code, and after signing in with one guides the user to remove the lost phone', async () => {
    const { secret, recoveryCodes } = await harness.enrolThroughApi('judy');
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(stack.url);
    await signInWithKeyboard(page, 'judy');
    await expectHeading(page, 'Two-factor authentication');
    // The other kinds of proof come before the field: the user can choose the kind first.
    const choice = page.getByRole('group', { name: 'Other ways to confirm' });
    await choice.getByRole('button', { name: 'Use a recovery code' }).waitFor();
    expect(await page.evaluate(() => {
      const group = document.querySelector('.proof-choice');
      const field = document.querySelector('input');
      return Boolean(group && field && group.compareDocumentPosition(field) & Node.DOCUMENT_POSITION_FOLLOWING);
    })).toBe(true);

    const wrong = generateTotpCode(secret, clock.now() + 10 * TOTP_STEP_MS);
    for (let attempt = 1; attempt <= 5; attempt++) await submitCode(page, 'Authentication code', wrong);
    await submitCode(page, 'Authentication code', wrong);
    const locked = await expectAlert(page, /Too many wrong codes/);
    expect(locked).toMatch(/Try again in 30 seconds, at \d{1,2}:\d{2}:\d{2}( [AP]M)?\. A recovery code still works: choose "Use a recovery code"\./);
    await screenshot(page, 'first-hour-lockout-375');

    await choice.getByRole('button', { name: 'Use a recovery code' }).click();
    await expectFocusOn(page, 'Recovery code');
    await typeAndSubmit(page, recoveryCodes[0]!);
    await expectHeading(page, 'Two-factor methods');
    const notice = page.getByRole('region', { name: 'You signed in with a recovery code' });
    await notice.getByText('You signed in with a recovery code. If you lost your phone or security key, remove it and add a new one.').waitFor();
    const listed = notice.getByRole('list', { name: 'Authenticators you can remove' }).getByRole('listitem');
    expect(await listed.allTextContents()).toEqual(['Authenticator app · Authenticator appRemove']);
    await listed.getByRole('button', { name: 'Remove' }).waitFor();
    await screenshot(page, 'first-hour-profile-after-recovery-code-375');

    // The choice holds for this visit: adding an app opens on the recovery code, the app's code a click away.
    await totpRow(page).getByRole('button', { name: 'Add another app' }).click();
    await expectHeading(page, 'Add another app');
    await expectFocusOn(page, 'Recovery code');
    await page.getByRole('group', { name: 'Other ways to confirm' }).getByRole('button', { name: 'Use your authenticator app' }).waitFor();
    await screenshot(page, 'first-hour-step-up-proof-choice-375');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // "Remove" is at hand in the notice: it removes the lost app with another recovery code.
    await listed.getByRole('button', { name: 'Remove' }).click();
    await expectHeading(page, 'Remove authenticator app');
    await expectFocusOn(page, 'Recovery code');
    await typeAndSubmit(page, recoveryCodes[1]!);
    await expectHeading(page, 'Two-factor methods');
    await totpRow(page).getByText('Off', { exact: true }).waitFor();

    // Signing out ends the visit's choice: the next sign-in starts from the app's code again.
    const { secret: kimSecret } = await harness.enrolThroughApi('kim');
    await header().getByRole('button', { name: 'Sign out' }).click();
    await signInWithKeyboard(page, 'kim');
    await expectHeading(page, 'Two-factor authentication');
    await expectFocusOn(page, 'Authentication code');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, generateTotpCode(kimSecret, clock.now()));
    await expectHeading(page, 'Two-factor methods');
    expect(await page.getByRole('region', { name: 'You signed in with a recovery code' }).count()).toBe(0);
  });

  it('wraps a 64-character name without spaces at 320, 375 and 1024 px: no sideways scrolling, Rename and Remove in view', async () => {
    const longName = 'W'.repeat(64);
    const { secret, api } = await harness.enrolThroughApi('leo');
    const [app] = (await api.getMfaStatus()).authenticators;
    await api.renameAuthenticator(app!.id, { name: longName });
    await page.goto(stack.url);
    await signInWithCode('leo', secret);
    const row = authenticatorRow(page, longName);
    await row.waitFor();
    for (const width of [320, 375, 1024]) {
      await page.setViewportSize({ width, height: 800 });
      await expectNoHorizontalOverflow(`profile at ${width} px`);
      for (const action of ['Rename', 'Remove']) {
        const box = await row.getByRole('button', { name: action, exact: true }).boundingBox();
        expect(box!.x + box!.width, `${action} at ${width} px`).toBeLessThanOrEqual(width);
      }
      if (width === 375) await screenshot(page, 'first-hour-long-name-375');
    }
    await page.setViewportSize({ width: 320, height: 800 });
    await row.getByRole('button', { name: 'Rename', exact: true }).click();
    await expectHeading(page, 'Rename authenticator app');
    await expectNoHorizontalOverflow('rename at 320 px');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await row.getByRole('button', { name: 'Remove', exact: true }).click();
    await expectHeading(page, 'Remove authenticator app');
    await expectNoHorizontalOverflow('remove at 320 px');
  });

  it('sets up an app on a phone: an otpauth link beside the QR code, the expiry to the second, Start again keeps the name, Enter goes on', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(stack.url);
    await signInWithKeyboard(page, 'mia');
    await expectHeading(page, 'Two-factor methods');
    await expect.poll(() => header().textContent()).toContain('Signed in as mia');
    await totpRow(page).getByRole('button', { name: 'Enable' }).click();
    await expectHeading(page, 'Set up one time password');
    const qr = page.getByRole('img', { name: /QR code/ });
    const first = Authenticator.scan(await qr.screenshot());
    const link = page.getByRole('link', { name: 'Open in authenticator app' });
    expect(await link.isVisible()).toBe(true);
    expect(await link.getAttribute('href')).toBe(first.otpauthUri);
    await page.getByText(/^This QR code works until \d{1,2}:\d{2}:\d{2}/).waitFor();
    await screenshot(page, 'first-hour-set-up-375');
    // On a wide screen the QR code is scanned from another device: no link.
    await page.setViewportSize({ width: 1024, height: 800 });
    expect(await link.isVisible()).toBe(false);
    await page.setViewportSize({ width: 375, height: 800 });

    await page.getByLabel('App name').fill('Work phone');
    await page.getByRole('button', { name: 'Start again' }).click();
    await expectHeading(page, 'Set up one time password');
    await expect.poll(async () => (await page.getByRole('link', { name: 'Open in authenticator app' }).getAttribute('href')) !== first.otpauthUri).toBe(true);
    expect(await page.getByLabel('App name').inputValue()).toBe('Work phone');
    const phone = Authenticator.scan(await page.getByRole('img', { name: /QR code/ }).screenshot());

    // Enter in "App name" goes to the empty code field, and submits once the code is there.
    await page.getByLabel('App name').press('Enter');
    await expectFocusOn(page, 'Authentication code');
    await page.getByLabel('Authentication code').fill(phone.codeAt(clock.now()));
    await page.getByLabel('App name').press('Enter');
    await expectHeading(page, 'Save your recovery codes');
    await page.getByRole('checkbox', { name: 'I have saved these codes' }).check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expectHeading(page, 'Sign in');

    await signInWithKeyboard(page, 'mia');
    await expectHeading(page, 'Two-factor authentication');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, phone.codeAt(clock.now()));
    await expectHeading(page, 'Two-factor methods');
    await authenticatorRow(page, 'Work phone').waitFor();
  });
});
