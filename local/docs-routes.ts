import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import type { ExtraRoute } from './server.js';

/** The committed contract (`npm run openapi` writes it; the contract tests keep it current). */
export const OPENAPI_DOCUMENT_PATH = fileURLToPath(new URL('../openapi.json', import.meta.url));
/** Scalar's self-contained browser bundle, served from node_modules: the docs page loads nothing from elsewhere. */
const SCALAR_BUNDLE_PATH = createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');

export const DOCS_PATHS = { document: '/openapi.json', page: '/docs', renderer: '/docs/scalar.js', init: '/docs/init.js' } as const;

/**
 * Same-origin only, enforced by the browser: the page cannot fetch fonts, scripts or
 * telemetry from anywhere else. Styles are inline because Scalar injects its CSS at run time.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>serverless-mfa API</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <div id="docs"></div>
    <script src="${DOCS_PATHS.renderer}"></script>
    <script src="${DOCS_PATHS.init}"></script>
  </body>
</html>
`;

/** Kept out of the page so that the policy needs no 'unsafe-inline' script. */
const INIT_SCRIPT = `Scalar.createApiReference('#docs', ${JSON.stringify({
  url: DOCS_PATHS.document,
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  showDeveloperTools: 'never',
  documentDownloadType: 'json',
  defaultOpenAllTags: true,
})});
`;

function sendText(response: ServerResponse, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(200, { 'Content-Type': contentType, 'X-Content-Type-Options': 'nosniff', ...headers });
  response.end(body);
}

/** Serves `/openapi.json` and the API docs page at `/docs`; local only, the cloud API has neither. */
export function docsRoutes(): ExtraRoute[] {
  let bundle: Promise<Buffer> | undefined;
  return [
    {
      method: 'GET',
      path: DOCS_PATHS.document,
      // Read per request so that `npm run openapi` shows up without a restart.
      handle: async (_request, response) =>
        sendText(response, 'application/json', await readFile(OPENAPI_DOCUMENT_PATH), { 'Cache-Control': 'no-cache' }),
    },
    {
      method: 'GET',
      path: DOCS_PATHS.page,
      handle: (_request, response) =>
        sendText(response, 'text/html; charset=utf-8', PAGE, { 'Content-Security-Policy': DOCS_CONTENT_SECURITY_POLICY, 'Cache-Control': 'no-cache' }),
    },
    {
      method: 'GET',
      path: DOCS_PATHS.renderer,
      handle: async (_request, response) =>
        sendText(response, 'text/javascript; charset=utf-8', await (bundle ??= readFile(SCALAR_BUNDLE_PATH)), { 'Cache-Control': 'public, max-age=3600' }),
    },
    {
      method: 'GET',
      path: DOCS_PATHS.init,
      handle: (_request, response) => sendText(response, 'text/javascript; charset=utf-8', INIT_SCRIPT, { 'Cache-Control': 'no-cache' }),
    },
  ];
}
