import { mfaTable } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf } from '../http/request.js';
import { routeById } from '../http/routes.js';

export const { handler, withServices, ports } = defineHandler(routeById('getMfaStatus'), { table: mfaTable }, async (event, { mfa, config }) => ({
  status: 200,
  body: await mfa.status(actorOf(event, config)),
}));
