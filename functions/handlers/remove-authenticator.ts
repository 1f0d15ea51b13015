import { AuthenticatorNotFoundError } from '../domain/errors.js';
import { mfaTable, totpSecretKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody, pathParametersOf, secondFactorOf } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { AuthenticatorPathParameters, SecondFactorRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('removeAuthenticator'), { table: mfaTable, secretKey: totpSecretKey }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  const { id } = pathParametersOf(event, AuthenticatorPathParameters, () => new AuthenticatorNotFoundError());
  return { status: 200, body: await mfa.removeAuthenticator(actor, id, secondFactorOf(parseBody(event, SecondFactorRequest))) };
});
