import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/local-stack.js';
import { codeOf, Inbox } from '../support/maildev.js';
import { useBrowserHarness } from './support/harness.js';
import { expectHeading, expectStatus, signInWithKeyboard } from './support/page.js';

/** The "Email codes" row of the profile. */
const emailRow = (page: Page) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Email codes' }) });

describe('web client: email codes (Chromium, mails through MailDev)', () => {
  const harness = useBrowserHarness('e2e-email', { mail: true });
  let stack: LocalStack;
  let page: Page;
  let inbox: Inbox;
  beforeEach(() => {
    ({ stack, page } = harness);
    inbox = new Inbox(stack.mailInboxUrl!);
  });

  it('offers email codes as a third method, turns them on with the mailed code, and signs in with "Email me a code"', async () => {
    const address = `erin-${Date.now()}@example.com`;
    await page.clock.install();
    await page.goto(stack.url);
    await signInWithKeyboard(page, address);

    await expectHeading(page, 'Two-factor methods');
    await emailRow(page).getByText('Off', { exact: true }).waitFor();
    await emailRow(page).getByRole('button', { name: 'Enable', exact: true }).click();

    await expectHeading(page, 'Set up email codes');
    await page.getByText(/We sent a code to e\*\*\*@example\.com/).waitFor();
    const [enrollmentMail] = await inbox.waitFor(address, 1);
    // "Send again" waits 30 s after each mail.
    const again = page.getByRole('button', { name: 'Send again', exact: true });
    expect(await again.isDisabled()).toBe(true);
    await page.clock.fastForward(30_000);
    expect(await again.isEnabled()).toBe(true);
    await page.getByLabel('Email code').fill(codeOf(enrollmentMail!));
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();

    // The first method: recovery codes, then signed out to sign in again with it.
    await expectHeading(page, 'Save your recovery codes');
    await page.getByRole('checkbox', { name: 'I have saved these codes' }).check();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await expectHeading(page, 'Sign in');
    await expectStatus(page, /Sign in again using a code sent to your email/);

    await signInWithKeyboard(page, address);
    await expectHeading(page, 'Two-factor authentication');
    await page.getByRole('button', { name: 'Email me a code', exact: true }).click();
    await page.getByText(/We sent a code to e\*\*\*@example\.com/).waitFor();
    const mails = await inbox.waitFor(address, 2);
    await page.getByLabel('Email code').fill(codeOf(mails[1]!));
    await page.keyboard.press('Enter');

    await expectHeading(page, 'Two-factor methods');
    await expectStatus(page, /Signed in with a code sent to your email/);
    await emailRow(page).getByText('On', { exact: true }).waitFor();
    await emailRow(page).getByText('Codes go to e***@example.com.').waitFor();
  });
});
