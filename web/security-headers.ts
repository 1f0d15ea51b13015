/**
 * The headers every web-client file is served with: locally by local/web-routes.ts, and meant
 * for the CloudFront response-headers policy in the cloud, so both enforce the same policy.
 */
export function webSecurityHeaders(options: { apiOrigin?: string } = {}): Record<string, string> {
  // The client builds its DOM from a same-origin bundle: no inline script or style anywhere.
  // The QR code arrives as a data: PNG. The API is same-origin locally, its own origin in the cloud.
  const connectSrc = ["'self'", ...(options.apiOrigin ? [options.apiOrigin] : [])].join(' ');
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src ${connectSrc}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}
