import { DeviceNotFoundError } from '../domain/errors.js';
import { mfaTable } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody, pathParametersOf } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { DevicePathParameters, EmptyRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('forgetDevice'), { table: mfaTable }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const { id } = pathParametersOf(event, DevicePathParameters, () => new DeviceNotFoundError());
  parseBody(event, EmptyRequest);
  return { status: 200, body: await mfa.forgetDevice(actor, id) };
});
