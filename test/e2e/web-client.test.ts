import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateTotpCode } from '../../functions/methods/totp/totp.js';
import type { LocalStack } from '../../local/local-stack.js';
import { Authenticator, wrongCodeFor } from './support/authenticator.js';
import { screenshot } from './support/browser.js';
import { TOTP_STEP_MS, useBrowserHarness } from './support/harness.js';
import {
  expectAlert,
  expectFocusOn,
  expectHeading,
  expectStatus,
  recoveryCodesOnScreen,
  signInWithKeyboard,
  submitCode,
  authenticatorRow,
  totpRow,
  typeAndSubmit,
} from './support/page.js';

describe('web client (Chromium against the local stack)', () => {
  const harness = useBrowserHarness('e2e');
  const { clock } = harness;
  let stack: LocalStack;
  let page: Page;
  beforeEach(() => {
    ({ stack, page } = harness);
  });
  const enrolThroughApi = (username: string) => harness.enrolThroughApi(username);

  it('enrols one time password from the QR code, then signs in with a code and a recovery code, regenerates and removes it', async () => {
    await page.goto(stack.url);

    // 1. Sign in (first factor only: MFA is off).
    await expectHeading(page, 'Sign in');
    await screenshot(page, '01-sign-in');
    await signInWithKeyboard(page, 'alice');

    // 3. Profile with MFA off.
    await expectHeading(page, 'Two-factor methods');
    await totpRow(page).getByText('Off', { exact: true }).waitFor();
    expect(await page.getByText(/Recovery codes remaining/).count()).toBe(0);
    await screenshot(page, '02-profile-mfa-off');
    // Keyboard only: focus is on the heading, the next stop is the row's button.
    await expectFocusOn(page, 'Two-factor methods');
    await page.keyboard.press('Tab');
    await expectFocusOn(page, 'Enable');
    await page.keyboard.press('Enter');

    // 4. Set-up: scan the QR code off the screen as a phone would.
    await expectHeading(page, 'Set up one time password');
    await expectFocusOn(page, 'Set up one time password');
    const qrImage = page.getByRole('img', { name: /QR code/ });
    await qrImage.waitFor();
    const authenticator = Authenticator.scan(await qrImage.screenshot());
    expect(authenticator.otpauthUri).toMatch(/^otpauth:\/\/totp\/.*alice/);
    const manualSecret = (await page.locator('code.secret').textContent())?.replace(/\s/g, '');
    expect(manualSecret).toBe(authenticator.secretBase32);
    await screenshot(page, '03-set-up');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '03-set-up-narrow');
    await page.setViewportSize({ width: 1000, height: 800 });
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await expectStatus(page, /Secret copied/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(authenticator.secretBase32);

    await page.getByLabel('Authentication code').fill(wrongCodeFor(authenticator, clock.now()));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    expect(await expectAlert(page, /code is wrong/)).toMatch(/Enter the code your authenticator app shows now/);
    await expectFocusOn(page, 'Authentication code');
    expect(await page.getByLabel('Authentication code').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, '04-set-up-wrong-code');
    // The app is named on the way; the profile lists it by that name.
    expect(await page.getByLabel('App name').inputValue()).toBe('Authenticator app');
    await page.getByLabel('App name').fill('Phone');
    await page.getByLabel('Authentication code').fill(authenticator.codeAt(clock.now()));
    await page.keyboard.press('Enter');

    // 5. Recovery codes, shown once.
    await expectHeading(page, 'Save your recovery codes');
    const recoveryCodes = await recoveryCodesOnScreen(page);
    expect(recoveryCodes).toHaveLength(10);
    const continueButton = page.getByRole('button', { name: 'Continue', exact: true });
    expect(await continueButton.isDisabled()).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download', exact: true }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.txt$/);
    const downloaded = await readFile(await download.path(), 'utf8');
    expect(downloaded.split('\n').filter((line) => recoveryCodes.includes(line))).toEqual(recoveryCodes);
    // The download may take the page's focus, and the Clipboard API writes only for a focused document: the user is back on the page.
    await page.bringToFront();
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await expectStatus(page, /Recovery codes copied/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(downloaded);
    await screenshot(page, '05-recovery-codes');
    const saved = page.getByRole('checkbox', { name: 'I have saved these codes' });
    await saved.focus();
    await page.keyboard.press('Space');
    expect(await saved.isChecked()).toBe(true);
    expect(await continueButton.isEnabled()).toBe(true);
    await page.keyboard.press('Tab');
    await expectFocusOn(page, 'Continue');
    await page.keyboard.press('Enter');

    // Signed out, asked to sign in again using MFA.
    await expectHeading(page, 'Sign in');
    await expectStatus(page, /Sign in again using your authenticator app/);
    await screenshot(page, '06-signed-out');

    // 2. Second step with a TOTP code; a wrong one first.
    await signInWithKeyboard(page, 'alice');
    await expectHeading(page, 'Two-factor authentication');
    await expectFocusOn(page, 'Authentication code');
    await typeAndSubmit(page, wrongCodeFor(authenticator, clock.now()));
    await expectAlert(page, /That code is wrong or has already been used/);
    await screenshot(page, '07-second-step-wrong-code');
    clock.advance(TOTP_STEP_MS);
    await page.getByLabel('Authentication code').fill(authenticator.codeAt(clock.now()));
    await page.keyboard.press('Enter');

    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Signed in with two-factor authentication/);
    await totpRow(page).getByText('On', { exact: true }).waitFor();
    await page.getByText('Recovery codes remaining: 10').waitFor();
    const phone = authenticatorRow(page, 'Phone');
    await phone.getByText('Authenticator app', { exact: true }).waitFor();
    await phone.getByText(/^Added .+ · last used .+/).waitFor();
    await screenshot(page, '08-profile-mfa-on');

    // 2. Second step with a recovery code instead.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInWithKeyboard(page, 'alice');
    await expectHeading(page, 'Two-factor authentication');
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await expectFocusOn(page, 'Recovery code');
    await page.keyboard.type(recoveryCodes[0]!);
    await screenshot(page, '09-second-step-recovery-code');
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Signed in with a recovery code\. 9 recovery codes left/);
    await page.getByText('Recovery codes remaining: 9').waitFor();
    expect(await page.getByText(/Warning:/).count()).toBe(0);

    // Signed in with a recovery code: the profile offers to remove a lost authenticator first.
    await page.getByText('You signed in with a recovery code. If you lost your phone or security key, remove it and add a new one.').waitFor();

    // Regenerate: asks for a proof, shows the new set once, back to the profile.
    // Keyboard order: the notice's Remove and Dismiss, each method's button, each authenticator's Rename and Remove, then regenerate.
    await expectFocusOn(page, 'Two-factor methods');
    for (const stop of ['Remove', 'Dismiss', 'Add another app', 'Add security key', 'Rename', 'Remove', 'Regenerate recovery codes']) {
      await page.keyboard.press('Tab');
      await expectFocusOn(page, stop);
    }
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Regenerate recovery codes');
    // The recovery code chosen at sign-in is this visit's choice; the app's code is one click away.
    await expectFocusOn(page, 'Recovery code');
    await page.getByRole('button', { name: 'Use your authenticator app' }).click();
    await expectFocusOn(page, 'Authentication code');
    await screenshot(page, '10-regenerate-confirm');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, authenticator.codeAt(clock.now()));
    await expectHeading(page, 'Save your recovery codes');
    const newCodes = await recoveryCodesOnScreen(page);
    expect(newCodes).toHaveLength(10);
    expect(newCodes.filter((code) => recoveryCodes.includes(code))).toEqual([]);
    await page.getByRole('checkbox', { name: 'I have saved these codes' }).check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expectHeading(page, 'Two-factor methods');
    await page.getByText('Recovery codes remaining: 10').waitFor();

    // Remove the only app: asks for a current code, then MFA is off.
    await authenticatorRow(page, 'Phone').getByRole('button', { name: 'Remove', exact: true }).click();
    await expectHeading(page, 'Remove authenticator app');
    await page.getByText(/It is your only method: removing it turns two-factor authentication off/).waitFor();
    await expectFocusOn(page, 'Authentication code');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, authenticator.codeAt(clock.now()));
    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /two-factor authentication is off and your recovery codes are deleted/);
    await totpRow(page).getByText('Off', { exact: true }).waitFor();
    await totpRow(page).getByRole('button', { name: 'Enable', exact: true }).waitFor();
    expect(await page.getByRole('heading', { name: 'Your authenticators' }).count()).toBe(0);
    await screenshot(page, '11-profile-after-disable');
  });

  it('says when to try again after too many wrong codes, and lets the user in once the lockout ends', async () => {
    const { secret } = await enrolThroughApi('bob');
    await page.goto(stack.url);
    await signInWithKeyboard(page, 'bob');
    await expectHeading(page, 'Two-factor authentication');

    const wrong = generateTotpCode(secret, clock.now() + 10 * TOTP_STEP_MS);
    // The fifth wrong code starts a 30-second lockout; the sixth attempt is refused with Retry-After.
    for (let attempt = 1; attempt <= 5; attempt++) {
      await submitCode(page, 'Authentication code', wrong);
      await expectAlert(page, /That code is wrong/);
    }
    await submitCode(page, 'Authentication code', wrong);
    expect(await expectAlert(page, /Too many wrong codes/)).toMatch(/Try again in 30 seconds, at \d{1,2}:\d{2}:\d{2}/);
    await expectFocusOn(page, 'Authentication code');
    await screenshot(page, '12-lockout');

    clock.advance(TOTP_STEP_MS);
    await submitCode(page, 'Authentication code', generateTotpCode(secret, clock.now()));
    await expectHeading(page, 'Two-factor methods');
  });

  it('warns when 3 or fewer recovery codes remain', async () => {
    const { secret, recoveryCodes, api } = await enrolThroughApi('carol');
    for (const recoveryCode of recoveryCodes.slice(0, 7)) await api.verifyMfa({ recoveryCode });
    await page.goto(stack.url);
    await signInWithKeyboard(page, 'carol');
    await expectHeading(page, 'Two-factor authentication');
    clock.advance(TOTP_STEP_MS);
    await typeAndSubmit(page, generateTotpCode(secret, clock.now()));

    await expectHeading(page, 'Two-factor methods');
    await page.getByText('Recovery codes remaining: 3').waitFor();
    await page.getByText(/Warning: only 3 left\. Regenerate them/).waitFor();
    await screenshot(page, '13-profile-few-recovery-codes');
  });

  it('signs in through an OpenID Connect provider with PKCE when config.json names one', async () => {
    const issuer = `${stack.url}/fake-idp`;
    const authorizations = new Map<string, { challenge: string; loginHint: string; redirectUri: string }>();
    await page.route('**/config.json', (route) => route.fulfill({ json: { identityProvider: { type: 'oidc', issuer, clientId: 'web-client' } } }));
    await page.route(
      (url) => url.pathname.startsWith('/fake-idp/'),
      async (route) => {
        const url = new URL(route.request().url());
        if (url.pathname.endsWith('/.well-known/openid-configuration')) {
          return route.fulfill({ json: { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` } });
        }
        if (url.pathname.endsWith('/authorize')) {
          const query = url.searchParams;
          expect(Object.fromEntries(query)).toMatchObject({ response_type: 'code', client_id: 'web-client', scope: 'openid email', code_challenge_method: 'S256', login_hint: 'dave' });
          const code = `code-${authorizations.size + 1}`;
          authorizations.set(code, { challenge: query.get('code_challenge')!, loginHint: query.get('login_hint')!, redirectUri: query.get('redirect_uri')! });
          const back = new URL(query.get('redirect_uri')!);
          back.search = new URLSearchParams({ code, state: query.get('state')! }).toString();
          return route.fulfill({ status: 302, headers: { Location: back.href } });
        }
        if (url.pathname.endsWith('/token')) {
          const form = new URLSearchParams(route.request().postData() ?? '');
          const authorization = authorizations.get(form.get('code') ?? '');
          const verifierMatches = authorization && createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url') === authorization.challenge;
          if (!authorization || !verifierMatches || form.get('redirect_uri') !== authorization.redirectUri || form.get('grant_type') !== 'authorization_code') {
            return route.fulfill({ status: 400, json: { error: 'invalid_grant' } });
          }
          // A token the local API's authorizer accepts, as the real provider's would be in the cloud.
          const idToken = await stack.identity.issueToken({ sub: authorization.loginHint, email: `${authorization.loginHint}@example.com` });
          return route.fulfill({ json: { id_token: idToken, access_token: 'unused', token_type: 'Bearer', expires_in: 3600 } });
        }
        return route.fulfill({ status: 404 });
      },
    );

    await page.goto(stack.url);
    await expectHeading(page, 'Sign in');
    await page.getByText('You continue at localhost').waitFor();
    await signInWithKeyboard(page, 'dave');

    await expectHeading(page, 'Two-factor methods');
    await page.getByText('Signed in as dave@example.com').waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(authorizations.size).toBe(1);

    // An answer this tab did not ask for (forged or replayed state) is refused.
    await page.goto(`${stack.url}/?code=code-1&state=forged`);
    await expectHeading(page, 'Sign in');
    await expectAlert(page, /does not belong to this tab/);
  });

  it('serves the client with a strict content security policy and no framing', async () => {
    const response = await fetch(`${stack.url.replace('localhost', '127.0.0.1')}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const script = await fetch(`${stack.url.replace('localhost', '127.0.0.1')}/assets/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });
});
