import { AuthenticatorNotFoundError } from '../domain/errors.js';
import { mfaTable } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, keptName, parseBody, pathParametersOf } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { AuthenticatorPathParameters, RenameAuthenticatorRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('renameAuthenticator'), { table: mfaTable }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const { id } = pathParametersOf(event, AuthenticatorPathParameters, () => new AuthenticatorNotFoundError());
  const { name } = parseBody(event, RenameAuthenticatorRequest);
  return { status: 200, body: await mfa.renameAuthenticator(actor, id, keptName(name)) };
});
