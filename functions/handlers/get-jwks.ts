import { assertionSigningKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { routeById } from '../http/routes.js';

export const { handler, withServices, ports } = defineHandler(routeById('getJwks'), { signingKey: assertionSigningKey }, async (_event, { signer }) => ({
  status: 200,
  body: { keys: await signer.publicJwks() },
  headers: { 'Cache-Control': 'public, max-age=300' },
}));
