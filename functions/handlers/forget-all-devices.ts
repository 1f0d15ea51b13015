import { mfaTable } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { EmptyRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('forgetAllDevices'), { table: mfaTable }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  parseBody(event, EmptyRequest);
  return { status: 200, body: await mfa.forgetAllDevices(actor) };
});
