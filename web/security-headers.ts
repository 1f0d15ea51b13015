/**
 * The headers every web-client file is served with: locally by local/web-routes.ts, and meant
 * for the CloudFront response-headers policy in the cloud, so both enforce the same policy.
 */
export function webSecurityHeaders(options: { connectOrigins?: readonly string[] } = {}): Record<string, string> {
  // The client builds its DOM from a same-origin bundle: no inline script or style anywhere.
  // The QR code arrives as a data: PNG. Locally the API is same-origin; in the cloud pass the
  // API's origin and the identity provider's (discovery and token endpoints) as connectOrigins.
  const connectSrc = ["'self'", ...(options.connectOrigins ?? [])].join(' ');
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
