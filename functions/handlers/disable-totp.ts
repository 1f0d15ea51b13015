import { mfaTable, totpSecretKey } from '../composition.js';
import { defineHandler } from '../http/lambda-handler.js';
import { actorOf, parseBody, secondFactorOf } from '../http/request.js';
import { routeById } from '../http/routes.js';
import { SecondFactorRequest } from '../http/schemas.js';

export const { handler, withServices, ports } = defineHandler(routeById('disableTotp'), { table: mfaTable, secretKey: totpSecretKey }, async (event, { mfa, config }) => {
  const actor = actorOf(event, config);
  return { status: 200, body: await mfa.disableTotp(actor, secondFactorOf(parseBody(event, SecondFactorRequest))) };
});
