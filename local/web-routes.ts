import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildWebClient, type WebAssets } from '../web/build.js';
import { webSecurityHeaders } from '../web/security-headers.js';
import type { ExtraRoute } from './server.js';

/**
 * What /config.json says locally: same-origin API, dev tokens as the first factor, the service's
 * remembered days, and email codes when the stack has somewhere to send them (MailDev). In the
 * cloud the deployment writes its own config.json next to the built files (docs/web-client.md).
 */
const localWebConfig = (options: { emailCodes?: boolean; rememberDeviceDays: number }) => ({
  identityProvider: { type: 'dev' },
  emailCodes: options.emailCodes ?? false,
  rememberDeviceDays: options.rememberDeviceDays,
});

/**
 * Serves the reference web client (web/) at `/`: bundled with esbuild into memory when the
 * local stack starts, so `npm start` always serves the current source.
 */
export function webRoutes(options: { emailCodes?: boolean; rememberDeviceDays: number }): ExtraRoute[] {
  const built = buildWebClient();
  // Reported on first request instead of crashing the API when the client fails to build.
  built.catch(() => {});

  const serve = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    let assets: WebAssets;
    try {
      assets = await built;
    } catch (error) {
      return reply(request, response, 500, 'text/plain; charset=utf-8', Buffer.from(`The web client failed to build:\n${String(error)}`));
    }
    const asset = assets.get(path);
    if (!asset) return reply(request, response, 404, 'text/plain; charset=utf-8', Buffer.from('Not found'));
    reply(request, response, 200, asset.contentType, asset.body);
  };

  const routes: Array<Omit<ExtraRoute, 'method'>> = [
    { path: '/', handle: (request, response) => serve(request, response, '/index.html') },
    { path: '/index.html', handle: (request, response) => serve(request, response, '/index.html') },
    { path: '/assets/*', handle: (request, response) => serve(request, response, new URL(request.url ?? '/', 'http://localhost').pathname) },
    {
      path: '/config.json',
      handle: (request, response) => reply(request, response, 200, 'application/json', Buffer.from(JSON.stringify(localWebConfig(options)))),
    },
  ];
  return routes.flatMap((route) => [
    { ...route, method: 'GET' },
    { ...route, method: 'HEAD' },
  ]);
}

function reply(request: IncomingMessage, response: ServerResponse, status: number, contentType: string, body: Buffer): void {
  response.writeHead(status, {
    ...webSecurityHeaders(),
    'Content-Type': contentType,
    'Content-Length': String(body.length),
    // Not fingerprinted: revalidate every time so a rebuilt client is picked up at once.
    'Cache-Control': 'no-cache',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
