import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Waits for the screen whose h1 is `name`: every screen has exactly one. */
export async function expectHeading(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

/** The accessible name of the focused element: a field's label, else its text. */
export function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = document.activeElement as HTMLInputElement | null;
    if (!active || active === document.body) return '';
    return (active.labels?.[0]?.textContent ?? active.textContent ?? '').trim();
  });
}

export async function expectFocusOn(page: Page, name: string): Promise<void> {
  await expect.poll(() => focusedName(page), { timeout: 5_000 }).toBe(name);
}

/** Waits until the alert live region says something matching `text`. */
export async function expectAlert(page: Page, text: RegExp): Promise<string> {
  const alert = page.getByRole('alert').filter({ hasText: text });
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

/** Waits until the status live region says something matching `text`. */
export async function expectStatus(page: Page, text: RegExp): Promise<void> {
  await page.getByRole('status').filter({ hasText: text }).waitFor();
}

/** Signs in with the keyboard only: focus starts in "Username", Enter submits. */
export async function signInWithKeyboard(page: Page, username: string): Promise<void> {
  await expectHeading(page, 'Sign in');
  await expectFocusOn(page, 'Username');
  await page.keyboard.type(username);
  await page.keyboard.press('Enter');
}

/**
 * Types into the focused field and presses Enter, as a keyboard user would. A screen may show
 * its heading before its form (the second step loads the user's methods first), so this waits
 * until the focus is in a text field, as a user waits to see the cursor before typing.
 */
export async function typeAndSubmit(page: Page, value: string): Promise<void> {
  await expect
    .poll(() => page.evaluate(() => document.activeElement instanceof HTMLInputElement && ['text', 'password', 'email', 'tel', ''].includes(document.activeElement.type)), { timeout: 5_000 })
    .toBe(true);
  await page.keyboard.type(value);
  await page.keyboard.press('Enter');
}

/**
 * Replaces the code in `label`'s field, submits it with Enter and waits until the form is no
 * longer busy: needed before reading an alert that may repeat the previous attempt's words.
 */
export async function submitCode(page: Page, label: string, value: string): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await field.fill(value);
  await field.press('Enter');
  await page.locator('form[aria-busy="true"]').waitFor({ state: 'detached' });
}

export async function recoveryCodesOnScreen(page: Page): Promise<string[]> {
  const items = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await items.first().waitFor();
  return (await items.allTextContents()).map((code) => code.trim());
}

/** The text of the "One time password" row on the profile: its state and its action. */
export function totpRow(page: Page) {
  return page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'One time password' }) });
}

/** The "Security keys" row on the profile. */
export function securityKeysRow(page: Page) {
  return page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Security keys' }) });
}

/** One authenticator in "Your authenticators", found by its name (its heading). */
export function authenticatorRow(page: Page, name: string) {
  return page
    .getByRole('list', { name: 'Your authenticators' })
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { level: 3, name, exact: true }) });
}
