import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CONTENT_SECURITY_POLICY } from '../../local/docs-routes.js';
import { startLocalStack, type LocalStack } from '../../local/local-stack.js';
import { testDynamoDbEndpoint } from '../support/dynamodb.js';
import { OPENAPI_FILE } from '../support/openapi-contract.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir: await mkdtemp(join(tmpdir(), 'mfa-docs-')),
    dynamoDbEndpoint: testDynamoDbEndpoint(),
    tableName: `mfa-docs-${randomUUID()}`,
  });
});
afterAll(() => stack?.stop());

describe('local server: API docs', () => {
  it('serves the committed openapi.json at /openapi.json', async () => {
    const response = await fetch(`${stack.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe(await readFile(OPENAPI_FILE, 'utf8'));
  });

  it('serves /docs as a page that loads only same-origin scripts, under a same-origin-only policy', async () => {
    const response = await fetch(`${stack.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(DOCS_CONTENT_SECURITY_POLICY);
    const html = await response.text();
    expect(html).not.toMatch(/https?:\/\//);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1]!);
    expect(scripts).toEqual(['/docs/scalar.js', '/docs/init.js']);
    for (const script of scripts) {
      const asset = await fetch(`${stack.url}${script}`);
      expect(asset.status, script).toBe(200);
      expect(asset.headers.get('content-type'), script).toMatch(/^text\/javascript/);
      expect((await asset.text()).length, script).toBeGreaterThan(100);
    }
  });

  it('renders every operation in Chromium without a request leaving the local server', async () => {
    // Fails rather than skips without a browser: CI installs Debian's chromium (.ci/run).
    expect(existsSync(CHROMIUM_PATH), `Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium`).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const requested: string[] = [];
      const problems: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });

      await page.goto(`${stack.url}/docs`);
      const document = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, { summary: string }>> };
      for (const operation of Object.values(document.paths).flatMap((item) => Object.values(item))) {
        await page.getByText(operation.summary).first().waitFor({ state: 'attached', timeout: 20_000 });
      }
      await mkdir(join('test-results', 'screenshots'), { recursive: true });
      await page.screenshot({ path: join('test-results', 'screenshots', 'api-docs.png') });

      expect(requested.filter((url) => !url.startsWith(`${stack.url}/`) && !url.startsWith('data:'))).toEqual([]);
      expect(requested).toContain(`${stack.url}/openapi.json`);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
