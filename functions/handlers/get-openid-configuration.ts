import { definePublicHandler } from '../http/public-handler.js';

export const { handler, withServices, ports } = definePublicHandler({}, async (_event, { config }) => ({
  status: 200,
  body: {
    issuer: config.issuer,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: ['ES256'],
    token_endpoint_auth_methods_supported: ['none'],
    response_types_supported: ['none'],
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'amr', 'nonce', 'auth_time', 'acr', 'remembered'],
  },
  headers: { 'Cache-Control': 'public, max-age=300' },
}));
