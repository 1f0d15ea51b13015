import { assertionSigningKey } from '../adapters/assertion-signing-key.js';
import { definePublicHandler } from '../http/public-handler.js';

export const { handler, withServices, ports } = definePublicHandler({ signingKey: assertionSigningKey }, async (_event, { signer }) => ({
  status: 200,
  body: { keys: await signer.publicJwks() },
  headers: { 'Cache-Control': 'public, max-age=300' },
}));
