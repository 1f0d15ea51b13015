import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createMfaClient, type MfaClient } from '../../../client/index.js';
import { generateTotpCode } from '../../../functions/methods/totp/totp.js';
import { startLocalStack, type LocalStack } from '../../../local/local-stack.js';
import { createTestTable, testDynamoDbClient, testDynamoDbEndpoint } from '../../support/dynamodb.js';
import { ManualClock } from '../../support/fakes.js';
import { launchChromium } from './browser.js';

export const TOTP_STEP_MS = 30_000;

export interface BrowserHarness {
  /** The server's clock: each TOTP code works once per 30-second step, and a journey needs several. */
  readonly clock: ManualClock;
  readonly stack: LocalStack;
  /** A fresh browser context and page per test. */
  readonly context: BrowserContext;
  readonly page: Page;
  /** A user enrolled through the typed client, to start a browser test from "MFA is on". */
  enrolThroughApi(username: string): Promise<{ secret: Uint8Array; recoveryCodes: string[]; api: MfaClient }>;
}

/**
 * The local stack (DynamoDB Local from the vitest global setup, a fresh table, a manual clock)
 * and headless Chromium, with a new context per test. Every test also fails on any page script
 * error or CSP violation in the browser console.
 */
export function useBrowserHarness(name: string, options: { mail?: boolean } = {}): BrowserHarness {
  const clock = new ManualClock();
  let dataDir: string;
  let stack: LocalStack;
  let browserLaunch: Promise<Browser>;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `mfa-${name}-`));
    const dynamo = testDynamoDbClient();
    const tableName = await createTestTable(dynamo, `mfa-${name}`);
    dynamo.destroy();
    // With `mail`, MailDev on free loopback ports: email codes are offered, mails read through its REST API.
    const mail = options.mail ? { mail: { maildev: { webPort: 0, smtpPort: 0 } } } : {};
    stack = await startLocalStack({ dataDir, dynamoDbEndpoint: testDynamoDbEndpoint(), tableName, overrides: { clock }, ...mail });
    browserLaunch = launchChromium();
    // Awaited in beforeEach, so a missing Chromium fails every test instead of skipping them.
    browserLaunch.then((launched) => (browser = launched)).catch(() => {});
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    context = await (await browserLaunch).newContext({ acceptDownloads: true, viewport: { width: 1000, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // Chromium logs every 4xx answer ("Failed to load resource"); refused codes are expected here.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
  });

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' && page) {
      // A failed step says where the page was: its heading and what the live regions said.
      const said = await page
        .evaluate(() => ['screen-title', 'alert', 'status'].map((id) => `${id}: ${document.getElementById(id)?.textContent ?? ''}`).join('\n'))
        .catch(() => 'the page is gone');
      console.error(`The page when the test failed:\n${said}`);
    }
    await context?.close();
    // Script errors and CSP violations ("Refused to load ...") end up here.
    expect(pageErrors).toEqual([]);
  });

  return {
    clock,
    get stack() {
      return stack;
    },
    get context() {
      return context;
    },
    get page() {
      return page;
    },
    async enrolThroughApi(username) {
      const baseUrl = stack.url.replace('localhost', '127.0.0.1');
      const { token } = await createMfaClient({ baseUrl }).createDevToken({ sub: username });
      const api = createMfaClient({ baseUrl, getToken: () => token });
      const enrollment = await api.startTotpEnrollment();
      const secret = new Uint8Array(Secret.fromBase32(enrollment.secret).bytes);
      clock.advance(TOTP_STEP_MS);
      const { recoveryCodes } = await api.confirmTotpEnrollment({ code: generateTotpCode(secret, clock.now()) });
      return { secret, recoveryCodes: recoveryCodes!, api };
    },
  };
}
